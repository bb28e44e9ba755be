package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBF16Prefill: packed products of BF16 matrices with bfloat16 inputs
// (SetBF16Prefill), in every set: within float32 summation error of the
// float64 product of the rounded x; where the set has a bmicro kernel
// (AVX512_BF16), the bits of its documented summation order (bgemmEmul);
// and a row's and a token's results the same bits wherever they fall in a
// call (a chunk of a prompt, a few rows of a matrix). Shapes with a partial
// last tile and chunk, fewer rows than a tile, a column tail not a multiple
// of 8 or of a block, odd widths (which keep the float path), and token
// counts with a partial last panel.
func TestBF16Prefill(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 16))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		e.SetBF16Prefill(true)
		shapes := [][2]int{{49, 520}, {12, 64}, {13, 202}, {100, 600}, {7, 64}, {61, 1030}, {20, 21}}
		for _, sh := range shapes {
			rows, cols := sh[0], sh[1]
			m := randMat(rng, BF16, rows, cols, 0, F32)
			kernel := active.bmicro != nil && rows >= bmr && cols%2 == 0
			lim := halfBatchLimit() // the first n past the batched half kernel
			for _, n := range []int{lim + 1, lim + 8, 37, 64} {
				name := fmt.Sprintf("%dx%d/n%d", rows, cols, n)
				x := randVec(rng, n*cols)
				xr := make([]float32, len(x))
				roundBF16(xr, x)
				y := make([]float32, n*rows)
				e.MatMul(y, m, x, n)
				for i := 0; i < n; i++ {
					ref, mag := refMatVec(m, xr[i*cols:(i+1)*cols])
					for r := range ref {
						got := y[i*rows+r]
						if !close32(got, ref[r], mag[r]) {
							t.Fatalf("%s token %d row %d: %v, reference of rounded x %v", name, i, r, got, ref[r])
						}
						if kernel {
							if want := bgemmEmul(m.U16[r*cols:(r+1)*cols], xr[i*cols:(i+1)*cols]); got != want {
								t.Fatalf("%s token %d row %d: %v, VDPBF16PS order gives %v", name, i, r, got, want)
							}
						}
					}
				}
				// Tokens 1..5+lim alone, and rows 3..3+k of the matrix alone.
				if n >= 6+lim {
					y2 := make([]float32, (5+lim)*rows)
					e.MatMul(y2, m, x[cols:(6+lim)*cols], 5+lim)
					for i := range y2 {
						if y2[i] != y[rows+i] {
							t.Fatalf("%s: tokens 1..5 fed alone: y[%d] %v, in the call of %d %v", name, rows+i, y2[i], n, y[rows+i])
						}
					}
				}
				if k := rows - 3; k >= bmr {
					sub := &Mat{DType: BF16, Rows: k, Cols: cols, U16: m.U16[3*cols : (3+k)*cols]}
					y3 := make([]float32, n*k)
					e.MatMul(y3, sub, x, n)
					for i := 0; i < n; i++ {
						for r := 0; r < k; r++ {
							if y3[i*k+r] != y[i*rows+3+r] {
								t.Fatalf("%s: row %d as row %d of a %d-row matrix: %v, %v", name, 3+r, r, k, y3[i*k+r], y[i*rows+3+r])
							}
						}
					}
				}
			}
		}
	})
}

// bgemmEmul is bmicroFunc's sum of a row w and a rounded token x: pairs in
// column order, each pair's odd product first, rounding to float32 after
// each addition (exact products), as VDPBF16PS computes it.
func bgemmEmul(w []uint16, x []float32) float32 {
	var acc float32
	for k := 0; k+1 < len(w); k += 2 {
		acc = float32(acc + math.Float32frombits(uint32(w[k+1])<<16)*x[k+1])
		acc = float32(acc + math.Float32frombits(uint32(w[k])<<16)*x[k])
	}
	return acc
}

func TestF32ToBF16(t *testing.T) {
	for _, c := range []struct {
		f    float32
		want uint16
	}{{1, 0x3f80}, {-2, 0xc000}, {math.Float32frombits(0x3f808000), 0x3f80}, {math.Float32frombits(0x3f818000), 0x3f82},
		{math.Float32frombits(0x3f808001), 0x3f81}, {float32(math.Inf(1)), 0x7f80}, {math.MaxFloat32, 0x7f80}} {
		if got := F32ToBF16(c.f); got != c.want {
			t.Errorf("F32ToBF16(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
		var r [1]float32
		roundBF16(r[:], []float32{c.f})
		if math.Float32bits(r[0]) != uint32(c.want)<<16 {
			t.Errorf("roundBF16(%g) = %#08x, want %#04x0000", c.f, math.Float32bits(r[0]), c.want)
		}
	}
	if got := F32ToBF16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("F32ToBF16(NaN) = %#04x, not a NaN", got)
	}
	var r [1]float32
	if roundBF16(r[:], []float32{float32(math.NaN())}); !math.IsNaN(float64(r[0])) {
		t.Errorf("roundBF16(NaN) = %g, not a NaN", r[0])
	}
}

// BenchmarkMatMulBF16 is prefill's product with BF16 weights, float32 inputs
// (f32) against bfloat16 ones (bf16: VDPBF16PS where the set has it), one
// after the other for each shape, on one thread: cpu-GFLOP/s is per CPU
// second, which a busy machine does not distort.
func BenchmarkMatMulBF16(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{64, 512} {
		for _, sh := range [][2]int{{1536, 1536}, {1536, 4096}} {
			rows, cols := sh[0], sh[1]
			x := randVec(rng, n*cols)
			y := make([]float32, n*rows)
			m := randMat(rng, BF16, rows, cols, 0, F32)
			for _, in := range []string{"f32", "bf16"} {
				b.Run(fmt.Sprintf("n%d/%dx%d/%s", n, rows, cols, in), func(b *testing.B) {
					pool := NewPool(1)
					defer pool.Close()
					e := NewExec(pool)
					e.SetBF16Prefill(in == "bf16")
					flops := 2 * float64(n*rows*cols)
					cpuLoop(b, int64(flops), func() { e.MatMul(y, m, x, n) }, "FLOP")
				})
			}
		}
	}
}
