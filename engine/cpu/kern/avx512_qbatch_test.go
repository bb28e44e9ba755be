//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestBatchVNNISameBits: the AVX-512 integer batched kernels (VPDPWSSD) give
// the AVX2 kernels' outputs bit for bit, Q8 and Q4, at every group size they
// take, for the pair kernel's batch sizes (4-6, and the inputs past a block
// of eight) and the lane kernel's (blocks of eight, a padded seven), and at
// the int32 sums' largest (codes 255, every xw 32767, groups of 256). On a
// CPU without AVX512_VNNI both are the AVX2 kernels.
func TestBatchVNNISameBits(t *testing.T) {
	if !archsimd.X86.AVX2() || !archsimd.X86.FMA() {
		t.Skip("no AVX2: neither kernel runs on this CPU")
	}
	t.Logf("AVX512_VNNI: %v", archsimd.X86.AVX512VNNI())
	saved := active
	active = avx2Impl // prepares the inputs for both (xw, dx, xs and xt)
	defer func() { active = saved }()
	pool := NewPool(1)
	defer pool.Close()
	e := NewExec(pool)
	e.SetIntInput(true)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, d := range []DType{Q8, Q4} {
		for _, gs := range []int{32, 64, 128, 256} {
			for _, extreme := range []bool{false, true} {
				for _, n := range []int{4, 5, 6, 7, 8, 9, 13, 15, 16} {
					t.Run(fmt.Sprintf("%s/gs%d/extreme=%v/n%d", d, gs, extreme, n), func(t *testing.T) {
						const rows, cols = 14, 512
						m := randMat(rng, d, rows, cols, gs, F16)
						x := randVec(rng, n*cols)
						if extreme {
							for i := range m.Q {
								m.Q[i] = 255
							}
							for i := range x {
								x[i] = float32(1 + i/cols)
							}
						}
						b := &e.qb
						if !b.prepare(e, m, x, n, true) {
							t.Fatal("finite input refused")
						}
						tmp := make([]float32, qbatchTmp(m))
						want, got := make([]float32, n*rows), make([]float32, n*rows)
						batchAsm(&avx2QB, want, m, 0, rows, b, tmp, true)
						batchAsm(&avx512QB, got, m, 0, rows, b, tmp, true)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("input %d row %d: %v, AVX2 %v", i/rows, i%rows, got[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}
