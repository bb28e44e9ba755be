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

// TestRowsInt4SameBits checks that the four-row integer kernel returns each
// row's product to the last bit as the one-row kernel does (same float
// operations in the same order), for every group size, scale kind and a
// group count with and without a tail of fewer than eight groups: a row's
// logits must not depend on which kernel, or which batch (qbatch.go falls
// back to the one-row kernel), computed them.
func TestRowsInt4SameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX2() && archsimd.X86.FMA(), "a CPU with AVX2 and FMA: the integer kernels are AVX2 assembly")
	rng := rand.New(rand.NewPCG(11, 11))
	for _, d := range []DType{Q8, Q4} {
		for _, gs := range []int{32, 64, 128} {
			for _, sd := range []DType{F16, BF16, F32} {
				for _, groups := range []int{1, 7, 8, 19} {
					t.Run(fmt.Sprintf("%s/g%d/%s/%dgroups", d, gs, sd, groups), func(t *testing.T) {
						m := randMat(rng, d, 9, groups*gs, gs, sd)
						x := randVec(rng, m.Cols)
						var in qin
						in.prepareFor(m, x, false)
						if !in.prepareInt(m) {
							t.Fatal("finite x refused")
						}
						got := make([]float32, m.Rows)
						avx2RowsInt(got, m, 0, &in, d == Q4)
						want := make([]float32, m.Rows)
						for r := range want {
							avx2RowsInt(want[r:r+1], m, r, &in, d == Q4) // one row: rowInt
						}
						for r := range got {
							if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
								t.Fatalf("row %d: four-row kernel %v, one-row kernel %v", r, got[r], want[r])
							}
						}
					})
				}
			}
		}
	}
}

