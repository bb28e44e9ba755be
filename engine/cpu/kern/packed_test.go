package kern

import (
	"math/rand/v2"
	"testing"
)

// TestMatMulsPacked: prefill products of one input that MatMuls runs as
// one packed step (tokens packed once, the chunks of all products in one
// parallel step) give what MatMul gives each alone, bit for bit, on every
// set, without allocating: products of every weight type and of rows that
// are not a multiple of a chunk, more products than one step takes, a
// product of another width, and full panels with a partial last one.
// MatMul alone against the reference is TestMatMul's and TestMatMulLong's.
func TestMatMulsPacked(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		rng := rand.New(rand.NewPCG(11, 12))
		const cols = 320
		mats := []*Mat{
			randMat(rng, F32, 50, cols, 0, F32),
			randMat(rng, BF16, 13, cols, 0, F32),
			randMat(rng, Q8, 61, cols, 64, F16),
			randMat(rng, F16, 100, cols, 0, F32),
			randMat(rng, Q4, 7, cols, 32, BF16),  // the fifth: a second step
			randMat(rng, F32, 9, 2*cols, 0, F32), // another width: its own step
			randMat(rng, F32, 30, cols, 0, F32),
		}
		for _, n := range []int{37} {
			x := randVec(rng, n*2*cols)
			ps := make([]Product, len(mats))
			for i, m := range mats {
				ps[i] = Product{Y: make([]float32, n*m.Rows), M: m}
			}
			// One width per call, as the executor's calls are; the
			// wider product gets its own input.
			e.MatMuls(x[:n*cols], n, ps[:5]...)
			e.MatMuls(x, n, ps[5])
			e.MatMuls(x[:n*cols], n, ps[6])
			for i, m := range mats {
				in := x[:n*m.Cols]
				want := make([]float32, n*m.Rows)
				e.MatMul(want, m, in, n)
				for k := range want {
					if ps[i].Y[k] != want[k] {
						t.Fatalf("n=%d product %d (%s) value %d: %v, alone %v", n, i, m.DType, k, ps[i].Y[k], want[k])
					}
				}
			}
			if a := testing.AllocsPerRun(2, func() { e.MatMuls(x[:n*cols], n, ps[:5]...) }); a != 0 {
				t.Fatalf("n=%d: MatMuls allocates %v times per call", n, a)
			}
		}
	})
}
