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
	b.Run("12x16", func(b *testing.B) {
		cpuLoop(b, flops, func() {
			for range 64 {
				k.micro(&c[0], packNR, &w[0], packKC, &sb[0], &xp[0], &xm[0], packKC/gs, gs, false)
			}
		}, "FLOP")
	})
	// 12x32: the same block against two panels a call (the second panel
	// is the first one again: the same bytes from L1).
	c2 := make([]float32, i16MR*2*packNR)
	b.Run("12x32", func(b *testing.B) {
		cpuLoop(b, flops, func() {
			for range 32 {
				k.micro2(&c2[0], 2*packNR, &w[0], packKC, &sb[0], &xp[0], 0, &xm[0], 0, packKC/gs, gs, false)
			}
		}, "FLOP")
	})
}

// TestIgemm12x32: the two-panel kernel gives the bits of two igemm12x16
// calls, over groups of 8-256 and one to 32 of them, from zero and
// accumulating onto c, with row strides wider than the tile, Q8-sized and
// extreme codes and inputs.
func TestIgemm12x32(t *testing.T) {
	k := avx512Igemm()
	if k == nil {
		t.Skip("no AVX512_VNNI: the avx512 set has no int16 prefill here")
	}
	rng := rand.New(rand.NewPCG(12, 32))
	for _, gs := range []int{8, 16, 32, 64, 128, 256} {
		for _, groups := range []int{1, 2, 3, packKC / gs} {
			cols := groups * gs
			if cols > packKC {
				continue
			}
			const ldc, ldw = 3*packNR + 5, packKC + 32
			w := make([]int16, i16MR*ldw)
			for i := range w {
				w[i] = int16(rng.IntN(256))
			}
			if gs == 256 {
				for i := range w {
					w[i] = 255 // the int32 bound's extreme with xq = ±32767
				}
			}
			const xps = packKC*packNR + 96 // panel 1 further than one block
			xp := make([]int16, xps+cols*packNR)
			for i := range xp {
				xp[i] = int16(rng.IntN(65535) - 32767)
				if gs == 256 {
					xp[i] = 32767
				}
			}
			xms := groups*2*packNR + 8
			xm := make([]float32, xms+groups*2*packNR)
			for i := range xm {
				xm[i] = rng.Float32()*2 - 1
				if i/packNR%2 == 0 {
					xm[i] = rng.Float32() / 32767 // dx
				}
			}
			sb := make([]float32, groups*2*i16MR)
			for i := range sb {
				sb[i] = rng.Float32()*2 - 1
			}
			for _, first := range []bool{true, false} {
				init := make([]float32, i16MR*ldc)
				for i := range init {
					init[i] = rng.Float32()*8 - 4
				}
				want := append([]float32(nil), init...)
				got := append([]float32(nil), init...)
				k.micro(&want[0], ldc, &w[0], ldw, &sb[0], &xp[0], &xm[0], groups, gs, first)
				k.micro(&want[packNR], ldc, &w[0], ldw, &sb[0], &xp[xps], &xm[xms], groups, gs, first)
				k.micro2(&got[0], ldc, &w[0], ldw, &sb[0], &xp[0], xps, &xm[0], xms, groups, gs, first)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("g%d groups %d first %v: c[%d] %v, two igemm12x16 give %v", gs, groups, first, i, got[i], want[i])
					}
				}
			}
		}
	}
}
