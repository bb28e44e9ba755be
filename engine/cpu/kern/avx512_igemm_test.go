//go:build goexperiment.simd && amd64

package kern

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkIgemmHot is the int16 micro-kernel alone on one hot block (a
// 12×256 tile of codes and a panel's 256 columns, both in L1), groups of
// 64, one thread: cpu-GFLOP/s counts a multiply-add as two flops, as the
// float kernel's figures in design.md do.
func BenchmarkIgemmHot(b *testing.B) {
	k := avx512Igemm()
	if k == nil {
		b.Skip("no AVX512_VNNI")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const gs = 64
	w := make([]int16, i16MR*packKC)
	xp := make([]int16, packKC*packNR)
	for i := range w {
		w[i] = int16(rng.IntN(256))
	}
	for i := range xp {
		xp[i] = int16(rng.IntN(65535) - 32767)
	}
	sb := make([]float32, packKC/gs*2*i16MR)
	xm := make([]float32, packKC/gs*2*packNR)
	c := make([]float32, i16MR*packNR)
	flops := int64(64 * 2 * i16MR * packNR * packKC) // 64 calls a loop
	cpuLoop(b, flops, func() {
		for range 64 {
			k.micro(&c[0], packNR, &w[0], packKC, &sb[0], &xp[0], &xm[0], packKC/gs, gs, false)
		}
	}, "FLOP")
}
