//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX2 integer quantized rows (i8.go): one assembly call per row. Per group
// the codes are multiplied with x's integer values and summed exactly in
// int32, then scaled once by the group's scale times x's dx; the bias term
// b·Σx is added per group in the same call, the scales and biases widened
// there from F32, F16 or BF16, so that a row of a small matrix (896 columns in
// a 0.5B model) costs one call rather than one per step.

func avx2RowsQ8i(y []float32, m *Mat, r0 int, in *qin) { avx2RowsI8(y, m, r0, in, false) }

func avx2RowsQ4i(y []float32, m *Mat, r0 int, in *qin) { avx2RowsI8(y, m, r0, in, true) }

// Scale kinds of the row kernels' sc and bs arguments.
const (
	i8ScalesF32  = 0
	i8ScalesF16  = 1
	i8ScalesBF16 = 2
)

func avx2RowsI8(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes := cols
	if q4 {
		rowBytes = cols / 2
	}
	x8 := &in.i8
	kind, elem := i8ScalesF32, uintptr(4)
	switch m.Scales.DType {
	case F16:
		kind, elem = i8ScalesF16, 2
	case BF16:
		kind, elem = i8ScalesBF16, 2
	}
	var sc, bs unsafe.Pointer
	if kind == i8ScalesF32 {
		sc, bs = unsafe.Pointer(&m.Scales.F32[0]), unsafe.Pointer(&m.Biases.F32[0])
	} else {
		sc, bs = unsafe.Pointer(&m.Scales.U16[0]), unsafe.Pointer(&m.Biases.U16[0])
	}
	if kind == i8ScalesF16 && !hasF16C {
		// Without F16C the assembly cannot widen halves: widen the rows' scales
		// and biases here.
		avx2RowsI8Widened(y, m, r0, in, q4)
		return
	}
	x := xI8(in, q4)
	for i := range y {
		r := r0 + i
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		off := uintptr(r*ng) * elem
		y[i] = rowI8(q, x, &x8.dx[0], &in.xsum[0], unsafe.Add(sc, off), unsafe.Add(bs, off), kind, ng, gs/32, q4)
	}
}

// avx2RowsI8Widened is avx2RowsI8 with the scales and biases widened to float32
// first, one row at a time.
func avx2RowsI8Widened(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	sc, bs := make([]float32, ng), make([]float32, ng)
	x8 := &in.i8
	for i := range y {
		r := r0 + i
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		rowBytes := cols
		if q4 {
			rowBytes = cols / 2
		}
		y[i] = rowI8(unsafe.Pointer(&m.Q[r*rowBytes]), xI8(in, q4), &x8.dx[0], &in.xsum[0], unsafe.Pointer(&sc[0]), unsafe.Pointer(&bs[0]), i8ScalesF32, ng, gs/32, q4)
	}
}

// xI8 is x's integers for the row kernel: int8 in Q4 order, or int16.
func xI8(in *qin, q4 bool) unsafe.Pointer {
	if q4 {
		return unsafe.Pointer(&in.i8.xq[0])
	}
	return unsafe.Pointer(&in.i8.xw[0])
}

// rowI8 returns one row's product, Σ_g sc[g]·dx[g]·Σq·x + bs[g]·xsum[g], over
// groups of 32·units codes: Q4 nibbles (16 bytes per unit) with x the int8 xq
// in Q4 order, or Q8 bytes with x the int16 xw; sc and bs hold the row's scales
// and biases in the given kind.
//
//go:noescape
func rowI8(q, x unsafe.Pointer, dx, xsum *float32, sc, bs unsafe.Pointer, kind, groups, units int, q4 bool) float32
