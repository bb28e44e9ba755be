//go:build goexperiment.simd && amd64

package kern

import "golang.org/x/sys/cpu"

// hasF16C: the CPU converts halves in hardware (every AVX2 CPU we know of
// does; the bit trick stays for any that does not).
var hasF16C = cpu.X86.HasF16C

// Assembly inner loops of the AVX2 set (avx2_asm_amd64.s). simd/archsimd
// has no F16C conversion, so F16 weights and the half KV cache went through
// a seven-instruction bit trick (about 5 GB/s of weights on Zen 1, a quarter
// of the bandwidth); VCVTPH2PS is one. The byte → dword widening of
// quantized codes likewise compiled to a chain of widenings and lane
// extractions, where VPMOVZXBD reads eight codes straight from memory.
// Each function reads whole vectors only: n is a multiple of 8 (units and
// groups as documented), and the callers do the tails in Go.

//go:noescape
func f16cDot(x *float32, w *uint16, n int) float32

//go:noescape
func bf16Dot(x *float32, w *uint16, n int) float32

//go:noescape
func f16cAxpy(y *float32, a float32, x *uint16, n int)

//go:noescape
func f16cToF32(dst *float32, src *uint16, n int)

//go:noescape
func q8Dot(q *byte, x *float32, sc *float32, groups, units int) float32

//go:noescape
func q4Dot(q *byte, x *float32, sc *float32, groups, units int) float32
