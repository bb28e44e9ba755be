package kern

import "math"

// Int8 activations for prefill (issue #19; llama.cpp's Q8_0 activations).
// Each token's x is quantized per block of int8Block columns to int8 with a
// float scale, so that a product with MLX 4/8-bit codes becomes byte
// multiply-adds summed exactly in int32:
//
//	Σ(s·q+b)·x ≈ s·Σ_blocks dx·Σq·xq + b·Σx,  xq = round(x/dx), dx = max|x|/127 per block,
//
// Σx per weight group staying the exact float sum (as qint.go's int16 path).
// The blocks are at most the weight group and divide it. This file is the
// plain-Go reference, for any block size and 8-bit codes as well;
// qint8pack.go runs 4-bit weights through a kernel set's micro-kernel. What
// int8 input does to the model is measured in engine/cpu's qint8_test.go.

// int8Max is the largest |xq|.
const int8Max = 127

// int8In is the n tokens of one MatMul quantized for the int8 products.
type int8In struct {
	block int       // columns per quantization block
	xq    []int8    // (n, cols)
	dx    []float32 // (n, cols/block) max|x|/int8Max of the block; 0 when all zero
	xsum  []float32 // (n, cols/groupSize) exact Σx per weight group
}

// prepare quantizes x (n, cols) for matrices like m. It returns false, and
// the product keeps x in float32, when x holds an Inf or a NaN.
func (in *int8In) prepare(m *Mat, x []float32, n, block int) bool {
	cols, gs := m.Cols, m.GroupSize
	nb, ng := cols/block, cols/gs
	in.block = block
	if cap(in.xq) < n*cols {
		in.xq = make([]int8, n*cols)
	}
	in.xq = in.xq[:n*cols]
	in.dx = grow(in.dx, n*nb)
	in.xsum = grow(in.xsum, n*ng)
	for t := range n {
		xt := x[t*cols : (t+1)*cols]
		groupSums(in.xsum[t*ng:(t+1)*ng], xt, gs)
		for b := range nb {
			xb := xt[b*block : (b+1)*block]
			var amax float32
			for _, v := range xb {
				amax = max(amax, v, -v)
			}
			if !(amax <= math.MaxFloat32) {
				return false
			}
			var inv float32
			in.dx[t*nb+b] = 0
			if amax > 0 {
				in.dx[t*nb+b], inv = amax/int8Max, int8Max/amax
			}
			dst := in.xq[t*cols+b*block : t*cols+(b+1)*block]
			for j, v := range xb {
				dst[j] = roundInt8(v * inv)
			}
		}
	}
	return true
}

// roundInt8 rounds v (scaled into ±int8Max) to the nearest integer, halves
// away from zero, clamped against the rounding of amax/int8Max.
func roundInt8(v float32) int8 {
	var c int32
	if v >= 0 {
		c = int32(v + 0.5)
	} else {
		c = int32(v - 0.5)
	}
	return int8(min(max(c, -int8Max), int8Max))
}

// int8Task is one MatMul over int8 inputs: rows of the weights per chunk.
type int8Task struct {
	m  *Mat
	y  []float32 // (n, m.Rows)
	in *int8In
	n  int
}

// int8ChunkRows is the rows of one chunk: each row is used by every token.
const int8ChunkRows = 16

func (t *int8Task) runChunk(c, _ int) {
	r0 := c * int8ChunkRows
	r1 := min(r0+int8ChunkRows, t.m.Rows)
	goMatMulInt8(t.y, t.m, r0, r1, t.in, t.n)
}

// matMulInt8 is MatMul with x quantized to int8 when asked: through the
// set's kernel (qint8pack.go), or the plain-Go reference in tests. It returns
// false, and the product keeps x in float32, when not asked or when x holds
// an Inf or a NaN.
func (e *Exec) matMulInt8(y []float32, m *Mat, x []float32, n int) bool {
	if e.int8Ref == 0 {
		return e.int8Prefill && m.DType == Q4 && active.i8q4 != nil && e.matMulInt8Packed(y, m, x, n)
	}
	block := e.int8Ref
	if block > m.GroupSize || m.GroupSize%block != 0 {
		block = m.GroupSize
	}
	if !e.i8.prepare(m, x, n, block) {
		return false
	}
	t := &e.i8t
	*t = int8Task{m: m, y: y[:n*m.Rows], in: &e.i8, n: n}
	chunks := (m.Rows + int8ChunkRows - 1) / int8ChunkRows
	e.run(t, chunks, m.Rows*m.Cols*n < parallelMin)
	t.m, t.y, t.in = nil, nil, nil
	return true
}

// goMatMulInt8 sets y[t*m.Rows+r] for rows r0..r1 of m and the n tokens of
// in: the plain-Go reference of the int8 products.
func goMatMulInt8(y []float32, m *Mat, r0, r1 int, in *int8In, n int) {
	cols, gs, bl := m.Cols, m.GroupSize, in.block
	ng, nb := cols/gs, cols/bl
	for r := r0; r < r1; r++ {
		for t := range n {
			xq := in.xq[t*cols : (t+1)*cols]
			var acc float32
			for g := range ng {
				var gsum float32
				for b := g * gs / bl; b < (g+1)*gs/bl; b++ {
					var s int32
					for k := b * bl; k < (b+1)*bl; k++ {
						s += int32(m.codeAt(r, k)) * int32(xq[k])
					}
					gsum += in.dx[t*nb+b] * float32(s)
				}
				acc += m.Scales.At(r*ng+g)*gsum + m.Biases.At(r*ng+g)*in.xsum[t*ng+g]
			}
			y[t*m.Rows+r] = acc
		}
	}
}

// codeAt is the MLX code of row r, column k of a Q8 or Q4 matrix.
func (m *Mat) codeAt(r, k int) byte {
	if m.DType == Q8 {
		return m.Q[r*m.Cols+k]
	}
	v := m.Q[(r*m.Cols+k)/2]
	if k%2 == 1 {
		return v >> 4
	}
	return v & 15
}
