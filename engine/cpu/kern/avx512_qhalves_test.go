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

// TestRowsIntHalvesSameBits checks that the avx512 set's 8-bit and 4-bit
// integer rows, through rowsIntHalves (one and two units per group) or the
// one-row and four-row kernels (more units), give every row rowInt's bits:
// every scale kind, whole eights of groups and a remainder, odd and even
// group counts, one group, and chunks of 1 to 12 rows (odd ones end in
// rowsIntVNNI) starting at row 0 or past it.
func TestRowsIntHalvesSameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX512() && archsimd.X86.AVX512VNNI(), "a CPU with AVX512_VNNI")
	if !archsimd.X86.AVX512VBMI() {
		t.Log("no AVX512_VBMI: the four-row kernel runs every 4-bit case")
	}
	rng := rand.New(rand.NewPCG(19, 19))
	for _, d := range []DType{Q8, Q4} {
		q4 := d == Q4
		rows := avx512RowsQ8i
		if q4 {
			rows = avx512RowsQ4i
		}
		for _, gs := range []int{32, 64, 96, 128} {
			for _, sd := range []DType{F16, BF16, F32} {
				for _, groups := range []int{1, 2, 3, 7, 8, 9, 14, 19, 76} {
					t.Run(fmt.Sprintf("%s/g%d/%s/%dgroups", d, gs, sd, groups), func(t *testing.T) {
						m, in, want := rowIntCase(t, rng, d, 12, groups, gs, sd)
						if (hasVBMI || !q4) && gs <= 64 && !avx512RowsIntHalves(want[:0], m, 0, in, q4) {
							t.Fatal("rowsIntHalves refused")
						}
						for _, r0 := range []int{0, 1, 3} {
							for n := 1; r0+n <= m.Rows; n++ {
								got := make([]float32, n)
								rows(got, m, r0, in)
								for i := range got {
									if math.Float32bits(got[i]) != math.Float32bits(want[r0+i]) {
										t.Fatalf("rows %d+%d, row %d: %v, rowInt %v", r0, n, r0+i, got[i], want[r0+i])
									}
								}
							}
						}
					})
				}
			}
		}
	}
}

// BenchmarkIntHalves compares rowsIntHalves with the kernels it replaced
// (rowsIntVNNI for Q8, the four-row kernel for Q4) on rows with int16
// input, in interleaved rounds (-test.benchtime small, the rounds give the
// spread): BenchmarkMatVec's 2048×2048 from memory on one thread (also per
// CPU second) and two, and BenchmarkMatVecHot's 256×1536 in L2 on one
// thread.
func BenchmarkIntHalves(b *testing.B) {
	if !hasVNNI || !hasVBMI {
		b.Skip("no AVX512_VNNI and VBMI")
	}
	saved, savedHalves := active, intHalves
	defer func() { active, intHalves = saved, savedHalves }()
	active = avx512Impl
	for _, d := range []DType{Q8, Q4} {
		ms := benchMats(d, 2048, 2048)
		x := randVec(rand.New(rand.NewPCG(1, 1)), 2048)
		y := make([]float32, 2048)
		rng := rand.New(rand.NewPCG(1, 1))
		hx := randVec(rng, 1536)
		hot := randMat(rng, d, 256, 1536, 64, F16)
		for round := range 3 {
			for _, halves := range []bool{false, true} {
				name := map[bool]string{false: "before", true: "halves"}[halves]
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/r%d/%s/mem/t%d", d, round, name, threads), func(b *testing.B) {
						intHalves = halves
						pool := NewPool(threads)
						defer pool.Close()
						e := NewExec(pool)
						e.SetIntInput(true)
						b.SetBytes(ms[0].Bytes())
						i := 0
						f := func() { e.MatVec(y, ms[i%len(ms)], x); i++ }
						if threads == 1 {
							cpuLoop(b, ms[0].Bytes(), f)
							return
						}
						for b.Loop() {
							f()
						}
					})
				}
				b.Run(fmt.Sprintf("%s/r%d/%s/hot/t1", d, round, name), func(b *testing.B) {
					intHalves = halves
					pool := NewPool(1)
					defer pool.Close()
					e := NewExec(pool)
					e.SetIntInput(true)
					b.SetBytes(hot.Bytes())
					cpuLoop(b, hot.Bytes(), func() { e.MatVec(y[:256], hot, hx) })
				})
			}
		}
	}
}

// BenchmarkQ4Direct is the 4-bit kernels alone on BenchmarkMatVecHot's L2
// matrix, one call for all rows, without the pool and x's quantization:
// the four-row kernel, rowsIntVNNI (one row after the other) and
// rowsIntHalves (with xwPair's rearrangement).
func BenchmarkQ4Direct(b *testing.B) {
	if !hasVNNI || !hasVBMI {
		b.Skip("no AVX512_VNNI and VBMI")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := randVec(rng, 1536)
	m := randMat(rng, Q4, 256, 1536, 64, F16)
	y := make([]float32, 256)
	var in qin
	in.prepareFor(m, x, false)
	in.prepareInt(m)
	for round := range 3 {
		for _, name := range []string{"four", "one", "halves"} {
			b.Run(fmt.Sprintf("r%d/%s", round, name), func(b *testing.B) {
				b.SetBytes(m.Bytes())
				for b.Loop() {
					switch name {
					case "four":
						avx2RowsInt(y, m, 0, &in, true, avx512Rows4)
					case "one":
						avx512RowsInt(y, m, 0, &in, true)
					default:
						avx512RowsIntHalves(y, m, 0, &in, true)
					}
				}
			})
		}
	}
}
