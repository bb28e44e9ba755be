package model

import (
	"fmt"
	"math"
)

// MLX's "mxfp4" quantization mode (GPT-OSS's experts): each weight is a
// 4-bit E2M1 code, packed eight to a uint32 as the affine 4-bit codes are
// (little-endian, the first value in the lowest bits), and each group of 32
// shares a U8 scale e meaning 2^(e-127); there are no biases.

// mxfp4 binds module path's codes (lead..., in/8) U32 and scales (lead...,
// in/32) U8 as one MXFP4 layer.
func (b *binder) mxfp4(path string, lead []int, in int) (Linear, error) {
	if in%32 != 0 {
		return Linear{}, fmt.Errorf("%w: %s: input size %d is not a whole number of mxfp4 groups of 32", ErrWeights, path, in)
	}
	w, err := b.tensor(path+".weight", append(append([]int(nil), lead...), in/8)...)
	if err != nil {
		return Linear{}, fmt.Errorf("%w (mxfp4)", err)
	}
	if w.DType != U32 {
		return Linear{}, fmt.Errorf("%w: tensor %s is %s, want U32 codes", ErrWeights, w.Name, w.DType)
	}
	scales, err := b.tensor(path+".scales", append(append([]int(nil), lead...), in/32)...)
	if err != nil {
		return Linear{}, err
	}
	if scales.DType != U8 {
		return Linear{}, fmt.Errorf("%w: tensor %s is %s, want U8 mxfp4 scales", ErrWeights, scales.Name, scales.DType)
	}
	return Linear{Weight: w, Scales: &scales, Bits: 4, GroupSize: 32, MXFP4: true}, nil
}

// stackedMXFP4 is stacked for an MXFP4 (n, out, in) projection.
func (b *binder) stackedMXFP4(path string, n, out, in int) ([]Linear, error) {
	whole, err := b.mxfp4(path, []int{n, out}, in)
	if err != nil {
		return nil, err
	}
	ls := make([]Linear, n)
	for e := range ls {
		ls[e] = expertSlice(whole, e, n)
	}
	return ls, nil
}

// cutScales applies cut to l's scales and, when it has them, its biases:
// MXFP4 layers have none.
func cutScales(l *Linear, cut func(Tensor) Tensor) {
	if l.Scales != nil {
		s := cut(*l.Scales)
		l.Scales = &s
	}
	if l.Biases != nil {
		bi := cut(*l.Biases)
		l.Biases = &bi
	}
}

// e2m1 are the values of the 16 E2M1 codes (bit 3 is the sign).
var e2m1 = [16]float32{0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6}

// DequantizeMXFP4Row expands one row of MXFP4 codes (len(dst)/2 bytes) with
// its scales (len(dst)/32 bytes) into dst.
func DequantizeMXFP4Row(codes, scales []byte, dst []float32) error {
	if len(dst)%32 != 0 || len(codes) < len(dst)/2 || len(scales) < len(dst)/32 {
		return fmt.Errorf("dequantize mxfp4: %d values from %d code bytes and %d scales", len(dst), len(codes), len(scales))
	}
	for j := range dst {
		c := codes[j/2] >> (4 * (j % 2)) & 15
		dst[j] = e2m1[c] * float32(math.Ldexp(1, int(scales[j/32])-127))
	}
	return nil
}

// QuantizeMXFP4Row is the inverse used to write test models, as MLX
// quantizes: per group of 32 the scale is the power of two that puts the
// largest magnitude at or below 6 (the largest E2M1 value) and each value is
// rounded to the nearest E2M1 value at that scale.
func QuantizeMXFP4Row(w []float32) (codes, scales []byte, err error) {
	if len(w)%32 != 0 {
		return nil, nil, fmt.Errorf("quantize mxfp4: %d values", len(w))
	}
	codes, scales = make([]byte, len(w)/2), make([]byte, len(w)/32)
	for g := 0; g < len(w); g += 32 {
		var amax float64
		for _, v := range w[g : g+32] {
			amax = max(amax, math.Abs(float64(v)))
		}
		e := 127
		if amax > 0 {
			e = min(max(int(math.Ceil(math.Log2(amax/6)))+127, 0), 254)
		}
		scales[g/32] = byte(e)
		s := math.Ldexp(1, e-127)
		for j := g; j < g+32; j++ {
			best := 0
			for c := range 16 {
				if math.Abs(float64(e2m1[c])*s-float64(w[j])) < math.Abs(float64(e2m1[best])*s-float64(w[j])) {
					best = c
				}
			}
			codes[j/2] |= byte(best) << (4 * (j % 2))
		}
	}
	return codes, scales, nil
}
