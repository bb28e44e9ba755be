//go:build goexperiment.simd && amd64

package kern

import "golang.org/x/sys/cpu"

// bgemm12x16 is the AVX512_BF16 micro-kernel of BF16 prefill with bfloat16
// inputs (bgemm.go, avx512_bgemm_amd64.s): bmicroFunc's contract.
//
//go:noescape
func bgemm12x16(c *float32, ldc int, w *uint16, ldw int, xp *uint16, kc int, first bool)

func init() {
	// archsimd has no AVX512_BF16 test; x/sys/cpu has.
	if cpu.X86.HasAVX512BF16 {
		avx512Impl.bmicro = bgemm12x16
	}
}
