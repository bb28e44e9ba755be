//go:build goexperiment.simd && amd64

package kern

import "simd/archsimd"

// Packed prefill with int16 inputs on AVX512_VNNI (igemm.go): the 12×16
// micro-kernel and the widening of a block's codes, in assembly
// (avx512_igemm_amd64.s).

//go:noescape
func igemm12x16(c *float32, ldc int, w *int16, ldw int, sb *float32, xp *int16, xm *float32, groups, gs int, first bool)

//go:noescape
func i16PackPanel(dst *int16, xm *float32, xt *float32, groups, gs int) (ok bool)

//go:noescape
func i16WidenQ8(dst *int16, q *byte, n int)

//go:noescape
func i16WidenQ4(dst *int16, q *byte, n int)

// avx512Igemm is the set's int16 prefill kernel where the CPU has VPDPWSSD
// (AVX512_VNNI); nil without (Skylake-X): the float packed path.
func avx512Igemm() *i16Kernels {
	if !archsimd.X86.AVX512VNNI() {
		return nil
	}
	return &i16Kernels{micro: igemm12x16, micro2: igemm12x32, widenQ8: i16WidenQ8, widenQ4: i16WidenQ4, pack: i16PackPanel}
}
