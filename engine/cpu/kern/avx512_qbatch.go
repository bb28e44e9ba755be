//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 batched quantized rows: the AVX2 set's batched path (avx2_qbatch.go)
// with its integer kernels rewritten for AVX512_VNNI
// (avx512_qbatch_amd64.s), whose sums and outputs are the AVX2 kernels'
// bit for bit. Float inputs take the AVX2 float kernels.

//go:noescape
func qbatchInt2x4V(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sc, bs *float32, n, groups, units int, q4 bool, out *float32)

//go:noescape
func qbatchIntT4x8V(q unsafe.Pointer, rowBytes int, xt *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)

// avx512QB are the VNNI kernels where the CPU has AVX512_VNNI (not every
// AVX-512 CPU does: Skylake-X has not), else the AVX2 ones.
var avx512QB = func() qbatchInts {
	if archsimd.X86.AVX512VNNI() {
		return qbatchInts{pair: qbatchInt2x4V, lane: qbatchIntT4x8V}
	}
	return avx2QB
}()

func avx512BatchQi(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	batchAsm(&avx512QB, y, m, r0, r1, b, tmp, true)
}

//go:noescape
func hbatch2x4Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, out *float32)

// avx512BatchHalf is the AVX2 batched half product (avx2_hbatch.go) with
// hbatch2x4Z, 16 columns a step, where the columns are a multiple of 16: the
// same products, summed over 16 lanes instead of 8 (another float32 order).
func avx512BatchHalf(y []float32, m *Mat, r0, r1 int, x []float32, n int) {
	if m.Cols%16 != 0 {
		avx2BatchHalf(y, m, r0, r1, x, n)
		return
	}
	batchHalfWith(hbatch2x4Z, y, m, r0, r1, x, n)
}
