//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// Packed prefill on AVX-512 (gemm.go): a 12×16 micro-kernel and the block
// conversions at 512-bit width in assembly (avx512_gemm_amd64.s); packing
// the tokens, the prefetch of the next block's weights and the tile
// transposes are the AVX2 set's (panels of 16 tokens in both sets).

//go:noescape
func gemm12x16(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool, pf *float32)

//go:noescape
func q8Deq16(dst *float32, q *byte, sb *float32, groups, units int)

//go:noescape
func q4Deq16(dst *float32, q *byte, sb *float32, groups, units int)

//go:noescape
func f16Widen16(dst *float32, src *uint16, n int)

//go:noescape
func bf16Widen16(dst *float32, src *uint16, n int)

// avx512PackRow is the AVX-512 packRow: F16 through VCVTPH2PS, BF16 by a
// shift, MLX codes by widening, converting and one FMA with the group's
// scale and bias; the same values as avx2PackRow.
func avx512PackRow(dst []float32, m *Mat, r, c0 int) {
	off := r*m.Cols + c0
	switch m.DType {
	case F32:
		copy(dst, m.F32[off:off+len(dst)])
	case F16:
		// VCVTPH2PS, as avx2PackRow's F16C conversion, rather than the
		// set's f16ToF32 (a bit trick that keeps a signaling NaN's bits):
		// the packed paths of both sets convert every half alike.
		src := m.U16[off : off+len(dst)]
		vec := len(dst) &^ 15
		if vec > 0 {
			f16Widen16(&dst[0], &src[0], vec)
		}
		goF16ToF32(dst[vec:], src[vec:])
	case BF16:
		avx512BF16ToF32(dst, m.U16[off:off+len(dst)])
	case Q8, Q4:
		gs := m.GroupSize
		g0, ng := off/gs, len(dst)/gs
		sb := packScales(m, g0, ng)
		if ng == 0 {
			return
		}
		_ = dst[ng*gs-1]
		if m.DType == Q8 {
			_ = m.Q[off+ng*gs-1]
			q8Deq16(&dst[0], &m.Q[off], &sb[0], ng, gs/32)
		} else {
			_ = m.Q[(off+ng*gs)/2-1]
			q4Deq16(&dst[0], &m.Q[off/2], &sb[0], ng, gs/32)
		}
	case MXFP4:
		m.mxfp4Cols(dst, r, c0)
	}
}

// tile12x16T is tileStore for the 12×16 tile: two six-row transposes.
func tile12x16T(y *float32, ldy int, c *float32, ldc int) {
	tile6x16T(y, ldy, c, ldc)
	tile6x16T((*float32)(unsafe.Add(unsafe.Pointer(y), 6*4)), ldy,
		(*float32)(unsafe.Add(unsafe.Pointer(c), 6*ldc*4)), ldc)
}
