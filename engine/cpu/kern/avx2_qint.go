//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX2 integer quantized rows (qint.go): one assembly call per four rows
// (rowsInt4, avx2_qint4_amd64.s), then per row for the rest. Per group
// the codes, widened to int16, are multiplied with x's int16 values by
// VPMADDWD and summed exactly in int32, then scaled once by the group's scale
// times x's dx; the bias term b·Σx is added in the same call, the scales and
// biases widened there from F32, F16 or BF16 eight groups at a time, so that a
// row of a small matrix (896 columns in a 0.5B model) costs one call.

func avx2RowsQ8i(y []float32, m *Mat, r0 int, in *qin) { avx2RowsInt(y, m, r0, in, false, rowsInt4) }

func avx2RowsQ4i(y []float32, m *Mat, r0 int, in *qin) { avx2RowsInt(y, m, r0, in, true, rowsInt4) }

// rows4Func is a four-row integer kernel: rowsInt4, or rowsInt4VNNI
// (avx512_qint.go), which returns the same bits.
type rows4Func func(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32)

// Scale kinds of rowInt's sc and bs arguments.
const (
	qintScalesF32  = 0
	qintScalesF16  = 1
	qintScalesBF16 = 2
)

// avx2RowsInt runs four rows a call through four, the rest one by one
// through rowInt.
func avx2RowsInt(y []float32, m *Mat, r0 int, in *qin, q4 bool, four rows4Func) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes := m.codeRowBytes()
	if m.Scales.DType == F16 && !hasF16C {
		// Without F16C the assembly cannot widen halves: widen each row's
		// scales and biases here.
		avx2RowsIntWidened(y, m, r0, in, q4)
		return
	}
	kind, elem, sc, bs := qintScaleArgs(m)
	xw, dx, xsum := &in.qi.xw[0], &in.qi.dx[0], &in.xsum[0]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		r := r0 + i
		off := uintptr(r*ng) * elem
		four(unsafe.Pointer(&m.Q[r*rowBytes]), rowBytes, xw, dx, xsum, unsafe.Add(sc, off), unsafe.Add(bs, off),
			ng*int(elem), kind, ng, gs/32, q4, &y[i])
	}
	for ; i < len(y); i++ {
		r := r0 + i
		off := uintptr(r*ng) * elem
		y[i] = rowInt(unsafe.Pointer(&m.Q[r*rowBytes]), xw, dx, xsum, unsafe.Add(sc, off), unsafe.Add(bs, off), kind, ng, gs/32, q4)
	}
}

// qintScaleArgs is how the integer row kernels take m's scales and biases:
// their stored type (qintScales*), the size of one, and where each starts.
func qintScaleArgs(m *Mat) (kind int, elem uintptr, sc, bs unsafe.Pointer) {
	if m.Scales.DType == F32 {
		return qintScalesF32, 4, unsafe.Pointer(unsafe.SliceData(m.Scales.F32)), unsafe.Pointer(unsafe.SliceData(m.Biases.F32))
	}
	kind = qintScalesF16
	if m.Scales.DType == BF16 {
		kind = qintScalesBF16
	}
	return kind, 2, unsafe.Pointer(unsafe.SliceData(m.Scales.U16)), unsafe.Pointer(unsafe.SliceData(m.Biases.U16))
}

// avx2RowsIntWidened is avx2RowsInt with the scales and biases widened to
// float32 first, one row at a time.
func avx2RowsIntWidened(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes := m.codeRowBytes()
	sc, bs := make([]float32, ng), make([]float32, ng)
	for i := range y {
		r := r0 + i
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		y[i] = rowInt(unsafe.Pointer(&m.Q[r*rowBytes]), &in.qi.xw[0], &in.qi.dx[0], &in.xsum[0],
			unsafe.Pointer(&sc[0]), unsafe.Pointer(&bs[0]), qintScalesF32, ng, gs/32, q4)
	}
}

// rowInt returns one row's product, Σ_g sc[g]·dx[g]·Σq·xw + bs[g]·xsum[g], over
// groups of 32·units codes: Q4 nibbles (16 bytes per unit) with xw in Q4
// order, or Q8 bytes (32 per unit) with xw in column order; sc and bs hold the
// row's scales and biases in the given kind.
//
//go:noescape
func rowInt(q unsafe.Pointer, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, kind, groups, units int, q4 bool) float32

// rowsInt4 is rowInt for the four rows at q, q+stride, q+2·stride and
// q+3·stride, whose scales and biases start sstride bytes apart; it writes
// their products to y[0:4]. Each unit of xw is loaded once for the four rows,
// which halves the one-row kernel's CPU time per code on Zen 1.
//
//go:noescape
func rowsInt4(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32)

func avx2QintGroup(xg []float32, dst []int16, q4 bool) (float32, bool) {
	return qintGroup(&xg[0], len(xg), &dst[0], q4)
}

// qintGroup is qintGroupGo for a group of n values, n a multiple of 32.
//
//go:noescape
func qintGroup(x *float32, n int, xw *int16, q4 bool) (dx float32, ok bool)
