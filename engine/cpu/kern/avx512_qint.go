//go:build goexperiment.simd && amd64

package kern

import (
	"unsafe"

	"simd/archsimd"
)

// AVX-512 integer quantized rows (qint.go): avx2RowsInt's driver with the
// four-row kernel in AVX512_VNNI (rowsInt4VNNI, avx512_qint4_amd64.s), whose
// integer sums and float epilogue are rowsInt4's, so that a row's result has
// the same bits in both sets. Without VNNI (Skylake-X) the set runs
// rowsInt4 itself.

func avx512RowsQ8i(y []float32, m *Mat, r0 int, in *qin) {
	avx2RowsInt(y, m, r0, in, false, avx512Rows4)
}

func avx512RowsQ4i(y []float32, m *Mat, r0 int, in *qin) {
	avx2RowsInt(y, m, r0, in, true, avx512Rows4)
}

// avx512Rows4 is the four-row kernel of the avx512 set on this CPU.
var avx512Rows4 = func() rows4Func {
	if archsimd.X86.AVX512VNNI() {
		return rowsInt4VNNI
	}
	return rowsInt4
}()

// rowsInt4VNNI is rowsInt4 with VPDPWSSD over zmm: the same arguments and
// the same bits.
//
//go:noescape
func rowsInt4VNNI(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32)
