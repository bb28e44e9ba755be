package kern

import "math"

// Integer quantized products. With float x, a Q4 or Q8 product widens every
// code to float32 and multiplies it with x: four conversions and four FMAs per
// 32 weights, which is what bounds decode on CPUs without wide FMA units (Zen 1
// reaches a fifth of its memory bandwidth on Q4). Quantizing x per group to
// int16 turns the inner loop into integer multiply-adds (VPMADDWD on AVX2)
// summed exactly in int32:
//
//	Σ(s·q+b)·x ≈ s·dx·Σq·xw + b·Σx,  xw = round(x/dx), dx = max|x|/32767 per group.
//
// The bias term keeps the exact float Σx. llama.cpp quantizes x to int8
// instead (its Q8_0/Q8_K activations), which lets VPMADDUBSW take twice the
// values per instruction; measured here that moves stories260K's next-token
// distribution by about 1e-3 nats, ten times issue #19's bound, while int16
// keeps x to 1 part in 65534 of its group's largest value: far below float32
// accumulation error in practice (engine/cpu's qint_test.go measures it).
// Exec.SetIntInput turns it on; engine/cpu does by default.

// qintMax is the largest |xw|: int16's range, symmetric.
const qintMax = 32767

// qintIn is x quantized per weight group for the integer kernels, prepared
// once per product for all rows.
type qintIn struct {
	// (cols) round(x/dx). Q8: in column order. Q4: per 32 columns the 16 even
	// ones, then the 16 odd ones, as the kernels unpack a block's low nibbles
	// (the even columns), then its high ones.
	xw []int16
	dx []float32 // (groups) max|x|/qintMax of the group; 0 when the group is all zero
	// xwp is xw in the order of the set's 4-bit pairs kernel (impl.pairXW),
	// made once per input rather than by every chunk of rows; empty when
	// the set has none or m is not 4-bit.
	xwp []int16
}

// prepareInt quantizes in.x for matrices like m. It returns false, and the
// product keeps x in float32, when x holds an Inf or a NaN: those must reach
// the output as the float kernels would carry them.
func (in *qin) prepareInt(m *Mat) bool {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	q := &in.qi
	q.dx = grow(q.dx, ng)
	q.xw = grow(q.xw, cols)
	x := in.x[:cols]
	group := qintGroupGo
	if active.qintGroup != nil {
		group = active.qintGroup
	}
	for g := range ng {
		dx, ok := group(x[g*gs:(g+1)*gs], q.xw[g*gs:(g+1)*gs], m.DType == Q4)
		if !ok {
			return false
		}
		q.dx[g] = dx
	}
	q.xwp = q.xwp[:0]
	if units := gs / 32; m.DType == Q4 && active.pairXW != nil && units >= 1 && units <= 2 {
		q.xwp = grow(q.xwp, cols)
		active.pairXW(q.xwp, q.xw, ng, units)
	}
	return true
}

// qintGroupGo quantizes one group xg into dst (in column order, or, q4, per 32
// columns the 16 even ones then the 16 odd ones) and returns its dx; ok is
// false when xg holds an Inf or a NaN. The float32 conversions keep the
// compiler from fusing x·inv+0.5 into one FMA (GOAMD64=v3 may), which the
// assembly does not do either.
func qintGroupGo(xg []float32, dst []int16, q4 bool) (dx float32, ok bool) {
	var amax float32
	for _, v := range xg {
		amax = max(amax, v, -v)
	}
	if !(amax <= math.MaxFloat32) { // Inf, or NaN (max propagates it)
		return 0, false
	}
	var inv float32
	if amax > 0 {
		dx, inv = amax/qintMax, qintMax/amax
	}
	if !q4 {
		for j, v := range xg {
			dst[j] = roundQint(float32(v * inv))
		}
		return dx, true
	}
	for b := 0; b < len(xg); b += 32 {
		for j := range 16 {
			dst[b+j] = roundQint(float32(xg[b+2*j] * inv))
			dst[b+16+j] = roundQint(float32(xg[b+2*j+1] * inv))
		}
	}
	return dx, true
}

// roundQint rounds v (scaled into ±qintMax) to the nearest integer, halves
// away from zero, clamped against the rounding of amax/qintMax.
func roundQint(v float32) int16 {
	var c int32
	if v >= 0 {
		c = int32(v + 0.5)
	} else {
		c = int32(v - 0.5)
	}
	return int16(min(max(c, -qintMax), qintMax))
}

// goRowsQ8i is the integer Q8 product in plain Go: the reference the SIMD
// integer kernels must match (to float32 summation order).
func goRowsQ8i(y []float32, m *Mat, r0 int, in *qin) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	xw, dx, xsum := in.qi.xw, in.qi.dx, in.xsum
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols : (r+1)*cols]
		var acc float32
		for g := range ng {
			var s int64
			for j := g * gs; j < (g+1)*gs; j++ {
				s += int64(q[j]) * int64(xw[j])
			}
			acc += m.Scales.At(r*ng+g)*dx[g]*float32(s) + m.Biases.At(r*ng+g)*xsum[g]
		}
		y[i] = acc
	}
}

// goRowsQ4i is goRowsQ8i for nibbles, with xw in its Q4 order.
func goRowsQ4i(y []float32, m *Mat, r0 int, in *qin) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	xw, dx, xsum := in.qi.xw, in.qi.dx, in.xsum
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols/2 : (r+1)*cols/2]
		var acc float32
		for g := range ng {
			var s int64
			for b := g * gs; b < (g+1)*gs; b += 32 {
				for j, v := range q[b/2 : b/2+16] {
					s += int64(v&15)*int64(xw[b+j]) + int64(v>>4)*int64(xw[b+16+j])
				}
			}
			acc += m.Scales.At(r*ng+g)*dx[g]*float32(s) + m.Biases.At(r*ng+g)*xsum[g]
		}
		y[i] = acc
	}
}
