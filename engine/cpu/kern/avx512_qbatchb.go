//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// qbatchIntB4x4Z (avx512_qbatchb_amd64.s) runs four rows against four int16
// inputs with VPDPBUSD on the codes' bytes and the inputs split into hi and
// lo bytes (qbatch.xb, cb): no widening of the codes, the int16 kernels'
// int32 sums and the pair kernel's (qbatchInt2x4V's) float epilogue, so its
// bits. Row r's scales and biases are read at sc and bs plus r·sstride
// bytes in the matrix's stored type (kind, qintScaleArgs's) and widened in
// registers, as rowsIntVNNI reads them: no float32 copy per four rows.
// Input j's four outputs go to y plus j·yStride bytes (the batched
// product's y is input-major), for the first ny inputs.
//
//go:noescape
func qbatchIntB4x4Z(q unsafe.Pointer, rowBytes int, xb *byte, cb *int32, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, dxStride, groups, gs int, q4 bool, y *float32, yStride, ny int)

// qbatchIntB4x8Z is the same for a block of eight inputs (two quads of
// qbatch.xb), with the AVX2 lane kernel's (qbatchIntT4x8's) bits.
//
//go:noescape
func qbatchIntB4x8Z(q unsafe.Pointer, rowBytes int, xb *byte, cb *int32, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, dxStride, groups, gs int, q4 bool, y *float32, yStride, ny int)

//go:noescape
func qbatchPrepXBZ(xw *int16, xb *byte, cb *int32, groups, upg int)

// avx512PrepXB is the avx512 set's impl.prepXB: qbatchPrepXB in assembly,
// where the set has the byte kernels (AVX512_VNNI).
var avx512PrepXB = func() func(xb []byte, cb []int32, j int, xw []int16, cols, gs int) {
	if avx512QB.quad == nil {
		return nil
	}
	return func(xb []byte, cb []int32, j int, xw []int16, cols, gs int) {
		p, l, ng := j/4, j%4, cols/gs
		qbatchPrepXBZ(&xw[:cols][0], &xb[p*8*cols+16*l : (p+1)*8*cols][0], &cb[(p*ng)*16+4*l : (p+1)*16*ng][0], ng, gs/32)
	}
}()
