//go:build goexperiment.simd && amd64

package kern

// Packed prefill on AVX2 (gemm.go): micro-kernels and dequantization in
// assembly (avx2_gemm_amd64.s).

//go:noescape
func gemm6x16(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool, pf *float32)

//go:noescape
func gemm6x8(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool, pf *float32)

//go:noescape
func q8Deq(dst *float32, q *byte, sb *float32, groups, units int)

//go:noescape
func q4Deq(dst *float32, q *byte, sb *float32, groups, units int)

// packScales returns groups g0..g0+ng of m's scales and biases, (group,
// scale|bias), as the packed dequantizing kernels (q8Deq, q4Deq and their
// 512-bit versions) read them; ng ≤ packKC/32.
func packScales(m *Mat, g0, ng int) (sb [2 * packKC / 32]float32) {
	for g := 0; g < ng; g++ {
		sb[2*g], sb[2*g+1] = m.Scales.At(g0+g), m.Biases.At(g0+g)
	}
	return sb
}

// avx2PackRow is the AVX2 packRow: F16 through F16C, BF16 by a shift, MLX
// codes by widening, converting and one FMA with the group's scale and bias.
func avx2PackRow(dst []float32, m *Mat, r, c0 int) {
	off := r*m.Cols + c0
	switch m.DType {
	case F32:
		copy(dst, m.F32[off:off+len(dst)])
	case F16:
		avx2F16ToF32(dst, m.U16[off:off+len(dst)])
	case BF16:
		avx2BF16ToF32(dst, m.U16[off:off+len(dst)])
	case Q8, Q4:
		gs := m.GroupSize
		g0, ng := off/gs, len(dst)/gs
		sb := packScales(m, g0, ng)
		if m.DType == Q8 {
			q8Deq(&dst[0], &m.Q[off], &sb[0], ng, gs/32)
		} else {
			q4Deq(&dst[0], &m.Q[off/2], &sb[0], ng, gs/32)
		}
	case MXFP4:
		m.mxfp4Cols(dst, r, c0)
	}
}

//go:noescape
func tile6x16T(y *float32, ldy int, c *float32, ldc int)

//go:noescape
func prefetchRows(p *byte, stride, rows, lines int)

//go:noescape
func packPanel16(dst *float32, x *float32, ldx, cols int)

// avx2PackPanel is packPanel through packPanel16 where cols is a multiple
// of 8: false leaves the panel to the scalar loop.
func avx2PackPanel(dst, x []float32, cols int) bool {
	if cols%8 != 0 {
		return false
	}
	_ = dst[cols*packNR-1]
	_ = x[(packNR-1)*cols+cols-1]
	packPanel16(&dst[0], &x[0], cols, cols)
	return true
}
