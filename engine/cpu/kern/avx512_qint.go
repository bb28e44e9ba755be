//go:build goexperiment.simd && amd64

package kern

import (
	"unsafe"

	"simd/archsimd"
)

// AVX-512 integer quantized rows (qint.go). With AVX512_VNNI, rows of 32
// or 64 columns per group (4-bit ones with VBMI) go row i with row h+i of
// the chunk through rowsIntHalves (avx512_qhalves_amd64.s), other 8-bit
// rows one after the other through rowsIntVNNI (avx512_qint1_amd64.s),
// other 4-bit rows four at a time through rowsInt4VNNI (avx2RowsInt's
// driver, avx512_qint4_amd64.s): all keep rowInt's and rowsInt4's integer sums and
// float epilogue, so that a row's result has the same bits in both sets.
// Without VNNI (Skylake-X) the set runs rowsInt4 itself. Why these
// layouts: engine/cpu/design.md, single-stream decode on AVX-512.

func avx512RowsQ8i(y []float32, m *Mat, r0 int, in *qin) {
	if hasVNNI {
		if !avx512RowsIntHalves(y, m, r0, in, false) {
			avx512RowsInt(y, m, r0, in, false)
		}
		return
	}
	avx2RowsInt(y, m, r0, in, false, rowsInt4)
}

func avx512RowsQ4i(y []float32, m *Mat, r0 int, in *qin) {
	if avx512RowsIntHalves(y, m, r0, in, true) {
		return
	}
	avx2RowsInt(y, m, r0, in, true, avx512Rows4)
}

var hasVNNI = archsimd.X86.AVX512VNNI()

// avx512Rows4 is the four-row kernel of the avx512 set on this CPU.
var avx512Rows4 = func() rows4Func {
	if hasVNNI {
		return rowsInt4VNNI
	}
	return rowsInt4
}()

// rowsInt4VNNI is rowsInt4 with VPDPWSSD over zmm: the same arguments and
// the same bits.
//
//go:noescape
func rowsInt4VNNI(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32)

// avx512RowsInt is avx2RowsInt with every row through rowsIntVNNI: one row
// after the other, so a chunk is read as one sequential stream.
func avx512RowsInt(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	if m.Scales.DType == F16 && !hasF16C {
		avx2RowsInt(y, m, r0, in, q4, avx512Rows4)
		return
	}
	if len(y) == 0 {
		return
	}
	ng := m.Cols / m.GroupSize
	rowBytes := m.codeRowBytes()
	kind, elem, sc, bs := qintScaleArgs(m)
	_ = m.Q[(r0+len(y))*rowBytes-1]
	off := uintptr(r0*ng) * elem
	rowsIntVNNI(unsafe.Pointer(&m.Q[r0*rowBytes]), rowBytes, &in.qi.xw[0], &in.qi.dx[0], &in.xsum[0],
		unsafe.Add(sc, off), unsafe.Add(bs, off), ng*int(elem), kind, ng, m.GroupSize/32, q4, &y[0], len(y))
}

// rowsIntVNNI is rowInt for the n rows at q, q+stride, …, whose scales and
// biases start sstride bytes apart, with VPDPWSSD over zmm; it writes their
// products to y[0:n], each with rowInt's bits.
//
//go:noescape
func rowsIntVNNI(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32, n int)
