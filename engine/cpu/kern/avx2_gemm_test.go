//go:build goexperiment.simd && amd64

package kern

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"simd/archsimd"
)

// BenchmarkMicroAVX2 runs the AVX2 micro-kernels on one hot block (in L1):
// their compute ceiling, to compare with the CPU's peak FMA rate.
func BenchmarkMicroAVX2(b *testing.B) {
	if !archsimd.X86.AVX2() || !archsimd.X86.FMA() {
		b.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	w := randVec(rng, 6*packKC)
	xp := randVec(rng, packKC*packNR)
	c := make([]float32, 6*packNR)
	for _, k := range []struct {
		name string
		mr   int
		f    microFunc
	}{{"4x16", 4, avx2Micro4x16}} {
		b.Run(k.name, func(b *testing.B) {
			flops := 2 * int64(k.mr*packNR*packKC)
			cpuLoop(b, flops, func() {
				k.f(unsafe.Pointer(&c[0]), packNR, unsafe.Pointer(&w[0]), packKC, unsafe.Pointer(&xp[0]), packKC, false)
			}, "FLOP")
		})
	}
}
