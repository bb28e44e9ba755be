package kern

import "math"

// Integer quantized products. With float x, a Q4 or Q8 product widens every code
// to float32 and multiplies it with x: four conversions and four FMAs per 32
// weights, which is what bounds decode on CPUs without wide FMA units (Zen 1 and
// most laptops reach a fifth of their memory bandwidth on Q4). Quantizing x per
// group to int8 turns the inner loop into byte multiply-adds (VPMADDUBSW on
// AVX2's VPMADDUBSW for Q4; Q8 codes reach 255, whose products with int8
// would saturate VPMADDUBSW's int16 pairs, so Q8 widens both to int16 and uses
// VPMADDWD), as llama.cpp does with its Q8_0/Q8_K activations:
//
//	Σ(s·q+b)·x ≈ s·dx·Σq·xq + b·Σx,  xq = round(x/dx), dx = max|x|/127 per group.
//
// The bias term keeps the exact float Σx. The cost is x's rounding, at most
// dx/2 per value; engine/cpu measures what it does to the next-token
// distribution (i8_test.go there), and Exec.SetInt8 turns it off.

// i8in is x quantized per weight group for the integer kernels, prepared once
// per product for all rows.
type i8in struct {
	xq []int8    // Q4 (cols): round(x/dx), per 32 columns the 16 even ones, then the 16 odd ones
	xw []int16   // Q8 (cols): round(x/dx) in column order, widened for VPMADDWD
	dx []float32 // (groups) max|x|/127 of the group; 0 when the group is all zero
}

// prepareI8 quantizes in.x for matrices like m. It returns false, and the
// product keeps x in float32, when x holds an Inf or a NaN: those must reach
// the output as the float kernels would carry them.
func (in *qin) prepareI8(m *Mat) bool {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	q := &in.i8
	q.dx = grow(q.dx, ng)
	if m.DType == Q4 {
		q.xq = growI8(q.xq, cols)
	} else {
		q.xw = growI16(q.xw, cols)
	}
	x := in.x[:cols]
	for g := range ng {
		xg := x[g*gs : (g+1)*gs]
		var amax float32
		for _, v := range xg {
			amax = max(amax, v, -v)
		}
		if !(amax <= math.MaxFloat32) { // Inf, or NaN (max propagates it)
			return false
		}
		var inv float32
		q.dx[g] = 0
		if amax > 0 {
			q.dx[g], inv = amax/127, 127/amax
		}
		if m.DType == Q8 {
			for j, v := range xg {
				q.xw[g*gs+j] = int16(round127(v * inv))
			}
			continue
		}
		// Low nibbles hold the even columns: the kernels take a 32-column
		// block's low nibbles first, then its high ones.
		for b := 0; b < gs; b += 32 {
			dst := q.xq[g*gs+b : g*gs+b+32]
			for j := range 16 {
				dst[j] = int8(round127(xg[b+2*j] * inv))
				dst[16+j] = int8(round127(xg[b+2*j+1] * inv))
			}
		}
	}
	return true
}

// round127 rounds v (scaled into ±127) to the nearest integer, halves away
// from zero, clamped to ±127 against the rounding of amax/127.
func round127(v float32) int32 {
	var c int32
	if v >= 0 {
		c = int32(v + 0.5)
	} else {
		c = int32(v - 0.5)
	}
	return min(max(c, -127), 127)
}

func growI8(b []int8, n int) []int8 {
	if cap(b) < n {
		return make([]int8, n)
	}
	return b[:n]
}

func growI16(b []int16, n int) []int16 {
	if cap(b) < n {
		return make([]int16, n)
	}
	return b[:n]
}

// goRowsQ8i is the integer Q8 product in plain Go: the reference the SIMD
// integer kernels must match (to float32 summation order).
func goRowsQ8i(y []float32, m *Mat, r0 int, in *qin) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	xw, dx, xsum := in.i8.xw, in.i8.dx, in.xsum
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols : (r+1)*cols]
		var acc float32
		for g := range ng {
			var s int32
			for j := g * gs; j < (g+1)*gs; j++ {
				s += int32(q[j]) * int32(xw[j])
			}
			acc += m.Scales.At(r*ng+g)*dx[g]*float32(s) + m.Biases.At(r*ng+g)*xsum[g]
		}
		y[i] = acc
	}
}

// goRowsQ4i is goRowsQ8i for nibbles, with xq in its Q4 order.
func goRowsQ4i(y []float32, m *Mat, r0 int, in *qin) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	xq, dx, xsum := in.i8.xq, in.i8.dx, in.xsum
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols/2 : (r+1)*cols/2]
		var acc float32
		for g := range ng {
			var s int32
			for b := g * gs; b < (g+1)*gs; b += 32 {
				for j, v := range q[b/2 : b/2+16] {
					s += int32(v&15)*int32(xq[b+j]) + int32(v>>4)*int32(xq[b+16+j])
				}
			}
			acc += m.Scales.At(r*ng+g)*dx[g]*float32(s) + m.Biases.At(r*ng+g)*xsum[g]
		}
		y[i] = acc
	}
}
