//go:build goexperiment.simd && amd64

package kern

import (
	"math/rand/v2"
	"testing"

	"simd/archsimd"
)

// BenchmarkMicroAVX512 runs the AVX-512 micro-kernel on one hot block (in
// L1): its compute ceiling, to compare with the CPU's peak (Zen 5: two
// 16-lane FMAs per cycle, 64 flops per cycle per core).
func BenchmarkMicroAVX512(b *testing.B) {
	if !archsimd.X86.AVX512() {
		b.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	mr := avx512Impl.mr
	w := randVec(rng, mr*packKC)
	xp := randVec(rng, packKC*packNR)
	c := make([]float32, mr*2*packNR)
	xp2 := randVec(rng, 2*packKC*packNR)
	b.Run("12x16", func(b *testing.B) {
		cpuLoop(b, 2*int64(mr*packNR*packKC), func() {
			gemm12x16(&c[0], packNR, &w[0], packKC, &xp[0], packKC, false, &xp[0])
		}, "FLOP")
	})
	b.Run("12x32", func(b *testing.B) {
		cpuLoop(b, 2*int64(mr*2*packNR*packKC), func() {
			gemm12x32(&c[0], 2*packNR, &w[0], packKC, &xp2[0], packKC*packNR, packKC, false, &xp2[0])
		}, "FLOP")
	})
}
