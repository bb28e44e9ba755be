package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPointwisePool: SiLUMul and RMSNorms on the pool give the bits of the
// package's single-threaded calls over the whole, on every set, without
// allocating: a length that ends in a partial chunk and vector, rows of a
// model's width and per-head groups, and inputs small enough to stay
// inline.
func TestPointwisePool(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		rng := rand.New(rand.NewPCG(21, 22))
		for _, n := range []int{5, 3*pointwiseChunk + 13, parallelMin + 8} {
			a, b := randVec(rng, n), randVec(rng, n)
			for i := range a {
				a[i] *= 8 // exp's whole range, past its saturation
			}
			want := append([]float32(nil), a...)
			SiLUMul(want, b)
			got := append([]float32(nil), a...)
			e.SiLUMul(got, b)
			same32(t, "SiLUMul", n, got, want)
		}
		for _, sh := range [][2]int{{37, 1536}, {3, 96}, {300, 64}, {1, 4096}} {
			rows, g := sh[0], sh[1]
			x, w := randVec(rng, rows*g), randVec(rng, g)
			want := make([]float32, len(x))
			for j := 0; j < len(x); j += g {
				RMSNorm(want[j:j+g], x[j:j+g], w, 1e-6)
			}
			got := make([]float32, len(x))
			e.RMSNorms(got, x, w, 1e-6)
			same32(t, "RMSNorms", rows*g, got, want)
		}
		a, b := randVec(rng, 4*pointwiseChunk), randVec(rng, 4*pointwiseChunk)
		x, w := randVec(rng, 64*1536), randVec(rng, 1536)
		out := make([]float32, len(x))
		if n := testing.AllocsPerRun(2, func() { e.SiLUMul(a, b); e.RMSNorms(out, x, w, 1e-6) }); n != 0 {
			t.Fatalf("%v allocations per call", n)
		}
	})
}

func same32(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s of %d: value %d is %v, one call gives %v", what, n, i, got[i], want[i])
		}
	}
}

// TestMaxOf: the set's maxOf (Softmax's first pass) is the scalar loop's
// largest value at every length around its vector width and past it, the
// largest value anywhere in the slice.
func TestMaxOf(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		if active.maxOf == nil {
			return
		}
		rng := rand.New(rand.NewPCG(23, 24))
		for n := 1; n < 300; n += 1 + n/8 {
			x := randVec(rng, n)
			for at := range min(n, 40) {
				x[at] += 50
				want := x[0]
				for _, v := range x[1:] {
					if v > want {
						want = v
					}
				}
				if got := active.maxOf(x); got != want {
					t.Fatalf("n=%d, largest at %d: %v, want %v", n, at, got, want)
				}
				x[at] -= 50
			}
		}
	})
}
