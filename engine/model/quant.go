package model

import (
	"encoding/binary"
	"fmt"
)

// DequantizeRow expands one row of MLX affine-quantized weights into dst.
// codes are the row's uint32 words (little-endian bytes, len(dst)*bits/8 of them):
// value j is bits [j*bits, (j+1)*bits) of the little-endian bit stream they form,
// which is how MLX packs every width, including 3, 5 and 6 bits that straddle
// words. scales and biases hold one entry per group of groupSize values, and
// each value is scale*q + bias.
func DequantizeRow(codes []byte, bits, groupSize int, scales, biases, dst []float32) error {
	n := len(dst)
	switch {
	case bits < 1 || bits > 8:
		return fmt.Errorf("dequantize: %d bits", bits)
	case groupSize <= 0 || n%groupSize != 0:
		return fmt.Errorf("dequantize: row of %d is not a whole number of groups of %d", n, groupSize)
	case len(scales) < n/groupSize || len(biases) < n/groupSize:
		return fmt.Errorf("dequantize: %d scales and %d biases for %d groups", len(scales), len(biases), n/groupSize)
	case (n*bits+31)/32*4 > len(codes):
		return fmt.Errorf("dequantize: %d bytes of codes for %d values of %d bits", len(codes), n, bits)
	}
	mask := uint64(1)<<bits - 1
	for j := range n {
		bit := j * bits
		word := bit / 32
		// Read 64 bits so that a value crossing a word boundary is whole.
		v := uint64(binary.LittleEndian.Uint32(codes[4*word:]))
		if 4*word+8 <= len(codes) {
			v |= uint64(binary.LittleEndian.Uint32(codes[4*word+4:])) << 32
		}
		q := (v >> (bit % 32)) & mask
		g := j / groupSize
		dst[j] = scales[g]*float32(q) + biases[g]
	}
	return nil
}

// QuantizeRow is the inverse used to write test models: it quantizes w with
// MLX's min/max affine scheme (per group: bias = min, scale = (max-min)/(2^bits-1))
// and returns the packed codes, scales and biases. Callers round scales and
// biases to the storage dtype and should dequantize with the rounded values.
func QuantizeRow(w []float32, bits, groupSize int) (codes []byte, scales, biases []float32, err error) {
	n := len(w)
	if bits < 1 || bits > 8 || groupSize <= 0 || n%groupSize != 0 || n*bits%32 != 0 {
		return nil, nil, nil, fmt.Errorf("quantize: %d values, %d bits, groups of %d", n, bits, groupSize)
	}
	levels := float32(int(1)<<bits - 1)
	codes = make([]byte, n*bits/8)
	for g := 0; g < n; g += groupSize {
		lo, hi := w[g], w[g]
		for _, v := range w[g : g+groupSize] {
			lo, hi = min(lo, v), max(hi, v)
		}
		scale := (hi - lo) / levels
		if scale == 0 {
			scale = 1 // a constant group: every code is 0 and the bias carries the value
		}
		scales, biases = append(scales, scale), append(biases, lo)
		for j := g; j < g+groupSize; j++ {
			q := uint64(min(max((w[j]-lo)/scale+0.5, 0), levels))
			bit := j * bits
			for k := 0; k < bits; k++ { // bit by bit keeps straddling values simple
				if q>>k&1 == 1 {
					codes[(bit+k)/8] |= 1 << ((bit + k) % 8)
				}
			}
		}
	}
	return codes, scales, biases, nil
}
