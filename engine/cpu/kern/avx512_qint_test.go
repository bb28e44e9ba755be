//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"simd/archsimd"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestRowsIntVNNISameBits checks that rowsIntVNNI gives every row rowInt's
// bits: Q8 and Q4 (odd and even unit counts, so both Q4 paths), every
// scale kind, whole eights of groups and a remainder, and chunks starting
// past row 0.
func TestRowsIntVNNISameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX512() && archsimd.X86.AVX512VNNI(), "a CPU with AVX512_VNNI")
	rng := rand.New(rand.NewPCG(13, 13))
	for _, d := range []DType{Q8, Q4} {
		for _, gs := range []int{32, 64, 96, 128} {
			for _, sd := range []DType{F16, BF16, F32} {
				for _, groups := range []int{1, 7, 8, 19} {
					t.Run(fmt.Sprintf("%s/g%d/%s/%dgroups", d, gs, sd, groups), func(t *testing.T) {
						m, in, want := rowIntCase(t, rng, d, 11, groups, gs, sd)
						for _, r0 := range []int{0, 3} {
							got := make([]float32, m.Rows-r0)
							avx512RowsInt(got, m, r0, in, d == Q4)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[r0+i]) {
									t.Fatalf("row %d: rowsIntVNNI %v, rowInt %v", r0+i, got[i], want[r0+i])
								}
							}
						}
					})
				}
			}
		}
	}
}
