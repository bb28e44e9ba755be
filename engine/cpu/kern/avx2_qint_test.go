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

// TestRowsInt4SameBits checks that the four-row integer kernels (rowsInt4,
// and rowsInt4VNNI where the CPU has AVX512_VNNI) return each row's product
// to the last bit as the one-row kernel does (same integer sums, same float
// operations in the same order), for every group size (96: an odd unit
// count above one), scale kind and a group count with and without a tail of
// fewer than eight groups: a row's logits must not depend on which kernel,
// which kernel set, or which batch (qbatch.go falls back to the one-row
// kernel), computed them.
func TestRowsInt4SameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX2() && archsimd.X86.FMA(), "a CPU with AVX2 and FMA: the integer kernels are AVX2 assembly")
	kernels := map[string]rows4Func{"rowsInt4": rowsInt4}
	if archsimd.X86.AVX512() && archsimd.X86.AVX512VNNI() {
		kernels["rowsInt4VNNI"] = rowsInt4VNNI
	}
	rng := rand.New(rand.NewPCG(11, 11))
	for name, four := range kernels {
		for _, d := range []DType{Q8, Q4} {
			for _, gs := range []int{32, 64, 96, 128} {
				for _, sd := range []DType{F16, BF16, F32} {
					for _, groups := range []int{1, 7, 8, 19} {
						t.Run(fmt.Sprintf("%s/%s/g%d/%s/%dgroups", name, d, gs, sd, groups), func(t *testing.T) {
							m, in, want := rowIntCase(t, rng, d, 9, groups, gs, sd)
							got := make([]float32, m.Rows)
							avx2RowsInt(got, m, 0, in, d == Q4, four)
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
}

// rowIntCase is a random d matrix of rows rows of groups groups of gs
// columns (scales sd), an input prepared for the integer kernels, and every
// row's product through the one-row kernel, rowInt: the bits the other
// integer kernels must give.
func rowIntCase(t *testing.T, rng *rand.Rand, d DType, rows, groups, gs int, sd DType) (*Mat, *qin, []float32) {
	t.Helper()
	m := randMat(rng, d, rows, groups*gs, gs, sd)
	x := randVec(rng, m.Cols)
	in := new(qin)
	in.prepareFor(m, x, false)
	if !in.prepareInt(m) {
		t.Fatal("finite x refused")
	}
	want := make([]float32, m.Rows)
	for r := range want {
		avx2RowsInt(want[r:r+1], m, r, in, d == Q4, rowsInt4) // one row: rowInt
	}
	return m, in, want
}

// TestQintGroupSIMD checks the assembly quantizer against qintGroupGo to the
// bit: dx and every xw in both orders, on random groups and on the cases
// where rounding could part ways (values landing on halves, both signs of
// zero, an all-zero group, subnormals, values near the float32 limit), and
// that both refuse an Inf or a NaN anywhere.
func TestQintGroupSIMD(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX2() && archsimd.X86.FMA(), "a CPU with AVX2 and FMA: the quantizer is AVX2 assembly")
	rng := rand.New(rand.NewPCG(12, 12))
	type gen struct {
		name string
		f    func(i int) float32
	}
	gens := []gen{
		{"random", func(int) float32 { return float32(rng.NormFloat64()) }},
		// With max|x| = qintMax, x·inv is x: every other value is a half.
		{"halves", func(i int) float32 {
			if i == 0 {
				return qintMax
			}
			return float32(rng.IntN(2*qintMax)-qintMax) + 0.5
		}},
		{"zeros", func(i int) float32 {
			if i%2 == 0 {
				return float32(math.Copysign(0, -1))
			}
			return 0
		}},
		{"subnormal", func(int) float32 { return float32(rng.NormFloat64()) * 1e-40 }},
		{"huge", func(int) float32 { return float32(rng.NormFloat64()) * 5e37 }},
		{"spiky", func(i int) float32 {
			if i == 5 {
				return -1e6
			}
			return float32(rng.NormFloat64())
		}},
	}
	for _, n := range []int{32, 64, 128, 256} {
		for _, g := range gens {
			for _, q4 := range []bool{false, true} {
				t.Run(fmt.Sprintf("%d/%s/q4=%v", n, g.name, q4), func(t *testing.T) {
					for range 20 {
						x := make([]float32, n)
						for i := range x {
							x[i] = g.f(i)
						}
						want, got := make([]int16, n), make([]int16, n)
						wdx, wok := qintGroupGo(x, want, q4)
						gdx, gok := avx2QintGroup(x, got, q4)
						if !wok || !gok || math.Float32bits(wdx) != math.Float32bits(gdx) {
							t.Fatalf("dx %v ok %v, want %v ok %v", gdx, gok, wdx, wok)
						}
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("xw[%d] = %d, want %d", i, got[i], want[i])
							}
						}
					}
				})
			}
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			for _, at := range []int{0, 7, n - 1} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				x[at] = bad
				if _, ok := qintGroupGo(x, make([]int16, n), false); ok {
					t.Fatalf("Go quantizer took %v at %d", bad, at)
				}
				if _, ok := avx2QintGroup(x, make([]int16, n), true); ok {
					t.Fatalf("assembly quantizer took %v at %d", bad, at)
				}
			}
		}
	}
}
