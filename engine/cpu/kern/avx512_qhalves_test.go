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

// TestRowsInt4HalvesSameBits checks that the avx512 set's 4-bit integer
// rows, through rowsInt4Halves (one and two units per group) or the
// four-row kernel (more units), give every row rowInt's bits: every scale
// kind, whole eights of groups and a remainder, odd and even group counts,
// one group, and chunks of 1 to 12 rows (odd ones end in rowsIntVNNI)
// starting at row 0 or past it.
func TestRowsInt4HalvesSameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX512() && archsimd.X86.AVX512VNNI(), "a CPU with AVX512_VNNI")
	if !archsimd.X86.AVX512VBMI() {
		t.Log("no AVX512_VBMI: the four-row kernel runs every case")
	}
	rng := rand.New(rand.NewPCG(19, 19))
	for _, gs := range []int{32, 64, 96, 128} {
		for _, sd := range []DType{F16, BF16, F32} {
			for _, groups := range []int{1, 2, 3, 7, 8, 9, 14, 19, 76} {
				t.Run(fmt.Sprintf("g%d/%s/%dgroups", gs, sd, groups), func(t *testing.T) {
					m := randMat(rng, Q4, 12, groups*gs, gs, sd)
					x := randVec(rng, m.Cols)
					var in qin
					in.prepareFor(m, x, false)
					if !in.prepareInt(m) {
						t.Fatal("finite x refused")
					}
					want := make([]float32, m.Rows)
					for r := range want {
						avx2RowsInt(want[r:r+1], m, r, &in, true, rowsInt4) // one row: rowInt
					}
					if hasVBMI && gs <= 64 && !avx512RowsInt4Halves(want[:0], m, 0, &in) {
						t.Fatal("rowsInt4Halves refused")
					}
					for _, r0 := range []int{0, 1, 3} {
						for n := 1; r0+n <= m.Rows; n++ {
							got := make([]float32, n)
							avx512RowsQ4i(got, m, r0, &in)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[r0+i]) {
									t.Fatalf("rows %d+%d, row %d: avx512RowsQ4i %v, rowInt %v", r0, n, r0+i, got[i], want[r0+i])
								}
							}
						}
					}
				})
			}
		}
	}
}

// BenchmarkQ4Halves compares rowsInt4Halves with the four-row kernel on Q4
// rows with int16 input, in interleaved rounds (-test.benchtime small, the
// rounds give the spread): BenchmarkMatVec's 2048×2048 from memory on one
// thread (also per CPU second) and two, and BenchmarkMatVecHot's 256×1536
// in L2 on one thread.
func BenchmarkQ4Halves(b *testing.B) {
	if !hasVNNI || !hasVBMI {
		b.Skip("no AVX512_VNNI and VBMI")
	}
	ms := benchMats(Q4, 2048, 2048)
	x := randVec(rand.New(rand.NewPCG(1, 1)), 2048)
	y := make([]float32, 2048)
	rng := rand.New(rand.NewPCG(1, 1))
	hx := randVec(rng, 1536)
	hot := randMat(rng, Q4, 256, 1536, 64, F16)
	saved, savedHalves := active, q4Halves
	defer func() { active, q4Halves = saved, savedHalves }()
	active = avx512Impl
	for round := range 3 {
		for _, name := range []string{"four", "halves"} {
			halves := name == "halves"
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("r%d/%s/mem/t%d", round, name, threads), func(b *testing.B) {
					q4Halves = halves
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
			b.Run(fmt.Sprintf("r%d/%s/hot/t1", round, name), func(b *testing.B) {
				q4Halves = halves
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

// BenchmarkQ4Direct is the 4-bit kernels alone on BenchmarkMatVecHot's L2
// matrix, one call for all rows, without the pool and x's quantization:
// the four-row kernel, rowsIntVNNI (one row after the other) and
// rowsInt4Halves (with xwPair's rearrangement).
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
						avx512RowsInt4Halves(y, m, 0, &in)
					}
				}
			})
		}
	}
}
