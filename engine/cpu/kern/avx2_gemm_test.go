//go:build goexperiment.simd && amd64

package kern

import (
	"math/rand/v2"
	"testing"

	"simd/archsimd"
)

// BenchmarkMicroAVX2 runs the AVX2 micro-kernels on one hot block (in L1):
// their compute ceiling, to compare with the CPU's peak FMA rate (Zen 1:
// 16 flops per cycle per core).
func BenchmarkMicroAVX2(b *testing.B) {
	if !archsimd.X86.AVX2() || !archsimd.X86.FMA() {
		b.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	w := randVec(rng, avx2Impl.mr*packKC)
	xp := randVec(rng, packKC*packNR)
	c := make([]float32, avx2Impl.mr*packNR)
	for _, k := range []struct {
		name   string
		tokens int
		f      microFunc
	}{{"6x16", 16, gemm6x16}, {"6x8", 8, gemm6x8}} {
		b.Run(k.name, func(b *testing.B) {
			flops := 2 * int64(avx2Impl.mr*k.tokens*packKC)
			cpuLoop(b, flops, func() {
				k.f(&c[0], packNR, &w[0], packKC, &xp[0], packKC, false, &xp[0])
			}, "FLOP")
		})
	}
}
