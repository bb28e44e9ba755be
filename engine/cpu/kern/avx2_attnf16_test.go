//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestAttnF16x3SameBits checks that the three-head kernels give exactly
// what one call per head gives: attention's results must not depend on how
// the heads of a group are batched.
func TestAttnF16x3SameBits(t *testing.T) {
	testenv.Need(t, hasF16C, "a CPU with F16C: without it the three-head kernels are not used (per-head loops)")
	rng := rand.New(rand.NewPCG(3, 3))
	for _, hd := range []int{16, 48, 64, 80, 24} {
		for _, n := range []int{1, 3, 4, 5, 8, 13} {
			t.Run(fmt.Sprintf("hd%d/n%d", hd, n), func(t *testing.T) {
				stride := 2*hd + 8
				rows := make([]uint16, n*stride)
				for i := range rows {
					rows[i] = F32ToF16(float32(rng.NormFloat64()))
				}
				q := randVec(rng, 3*hd)
				ns := n + 2 // scores of consecutive heads need not be adjacent
				got, want := make([]float32, 3*ns), make([]float32, 3*ns)
				avx2AttnScoresF16x3(got, ns, n, q, rows, stride)
				for h := range 3 {
					avx2AttnScoresF16(want[h*ns:h*ns+n], q[h*hd:(h+1)*hd], rows, stride)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("scores: %v, one head at a time %v", got, want)
				}
				w := randVec(rng, 3*ns)
				out := randVec(rng, 3*hd)
				one := slices.Clone(out)
				avx2AttnValuesF16x3(out, w, ns, n, rows, stride)
				for h := range 3 {
					avx2AttnValuesF16(one[h*hd:(h+1)*hd], w[h*ns:h*ns+n], rows, stride)
				}
				if !slices.Equal(out, one) {
					t.Fatalf("values: %v, one head at a time %v", out, one)
				}
			})
		}
	}
}
