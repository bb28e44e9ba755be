package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// wantPrefill is the float64 reference of what MatMul must give for token
// xi of a prompt of n tokens: the int16 contract (x rounded per group as a
// lone product rounds it, integer sums exact) where the Exec's path takes
// int16 inputs, float inputs otherwise.
func wantPrefill(t *testing.T, e *Exec, m *Mat, xi []float32, n int) (want, mag []float64) {
	t.Helper()
	intIn := e.IntInput() && (n <= qbatchMaxTokens || e.intPrefill(m))
	if !intIn {
		return refMatVec(m, xi)
	}
	var in qin
	in.prepare(m, xi)
	if !in.prepareInt(m) {
		t.Fatal("finite x refused")
	}
	return i8Ref(m, &in)
}

// igemmRef is the int16 prefill's result for one token, bit for bit: per
// group u = float32(Σq·xq)·dx, y = fma(u, s, y), y = fma(Σx, b, y), in group
// order (igemm.go's contract, the same bits wherever the row and the token
// fall). The float32 FMA is taken in float64 and rounded: a product of two
// float32 is exact there, so only a double rounding of the sum could differ,
// once in ~2²⁹ values.
func igemmRef(m *Mat, in *qin) []float32 {
	fma := func(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }
	ng := m.Cols / m.GroupSize
	y := make([]float32, m.Rows)
	for r := range m.Rows {
		var acc float32
		for g := range ng {
			var s int32
			for c := g * m.GroupSize; c < (g+1)*m.GroupSize; c++ {
				s += int32(m.code(r, c) * xqAt(m, in, c))
			}
			u := float32(s) * in.qi.dx[g]
			acc = fma(u, m.Scales.At(r*ng+g), acc)
			acc = fma(in.xsum[g], m.Biases.At(r*ng+g), acc)
		}
		y[r] = acc
	}
	return y
}

// TestMatMulIntPrefill: prompts of 1-79 and 512 tokens through MatMul with
// int16 inputs on (on sets with a two-panel kernel: 17, a pair with a
// one-token second panel; 33 and 79, an odd partial panel alone; 48, an odd
// full one), Q8 and Q4 weights of groups 32/64/128 and row counts
// that are not a multiple of a chunk or a tile, widths that end in a
// partial block, against the float64 reference of the set's contract, on
// every set.
func TestMatMulIntPrefill(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(19, 16))
		type shape struct{ rows, cols int }
		for _, d := range []DType{Q8, Q4} {
			for _, gs := range []int{32, 64, 128} {
				for _, sh := range []shape{{13, 4 * gs}, {61, 640}, {97, 384}, {12, 2 * gs}} {
					if sh.cols%gs != 0 {
						continue
					}
					m := randMat(rng, d, sh.rows, sh.cols, gs, F16)
					for _, n := range []int{1, 5, 16, 17, 31, 33, 48, 64, 79, 512} {
						if n == 512 && gs != 64 {
							continue // time: one group size covers the long prompt
						}
						name := fmt.Sprintf("%s/g%d/%dx%d/n%d", d, gs, sh.rows, sh.cols, n)
						x := randVec(rng, n*m.Cols)
						clear(x[gs : 2*gs]) // an all-zero group: dx 0
						y := make([]float32, n*m.Rows)
						e.MatMul(y, m, x, n)
						for i := range n {
							xi := x[i*m.Cols : (i+1)*m.Cols]
							want, mag := wantPrefill(t, e, m, xi, n)
							for r := range m.Rows {
								if got := y[i*m.Rows+r]; !close32(got, want[r], mag[r]) {
									t.Fatalf("%s token %d row %d: %v, want %v (Σ|terms| %v)", name, i, r, got, want[r], mag[r])
								}
							}
							if n > qbatchMaxTokens && e.intPrefill(m) {
								var in qin
								in.prepare(m, xi)
								in.prepareInt(m)
								for r, v := range igemmRef(m, &in) {
									if got := y[i*m.Rows+r]; got != v {
										t.Fatalf("%s token %d row %d: %v, the kernel's order gives %v", name, i, r, got, v)
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestMatMulIntPrefillExtreme drives the int32 sums to their largest: Q8
// codes all 255 and every input its group's maximum (xq = 32767) over
// groups of 128 and 256 (gs·255·32767 < 2³¹).
func TestMatMulIntPrefillExtreme(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(1)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(5, 6))
		for _, gs := range []int{128, 256} {
			m := randMat(rng, Q8, 24, 512, gs, F32)
			for i := range m.Q {
				m.Q[i] = 255
			}
			const n = 40
			x := make([]float32, n*m.Cols)
			for i := range x {
				x[i] = 1.5
				if i%m.Cols >= m.Cols/2 {
					x[i] = -2 // a negative sum too
				}
			}
			y := make([]float32, n*m.Rows)
			e.MatMul(y, m, x, n)
			for i := range n {
				want, mag := wantPrefill(t, e, m, x[i*m.Cols:(i+1)*m.Cols], n)
				for r := range m.Rows {
					if got := y[i*m.Rows+r]; !close32(got, want[r], mag[r]) {
						t.Fatalf("g%d token %d row %d: %v, want %v", gs, i, r, got, want[r])
					}
				}
			}
		}
	})
}

// TestMatMulIntPrefillNonFinite: an Inf or NaN in one token (in any panel:
// the packing finds it) sends the call to float inputs, as a lone product falls back: that token's outputs are
// not finite, the others' are the float reference's; the next finite
// prompt takes int16 inputs again.
func TestMatMulIntPrefillNonFinite(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(7, 8))
		for _, d := range []DType{Q8, Q4} {
			m := randMat(rng, d, 50, 256, 64, F16)
			const n = 40
			for k, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				// a full panel's token, the partial last panel's, the first
				bad := []int{23, 39, 0}[k]
				x := randVec(rng, n*m.Cols)
				x[bad*m.Cols+100] = v
				y := make([]float32, n*m.Rows)
				e.MatMul(y, m, x, n)
				// The finite tokens' bits are the float inputs' path's (a
				// token's bits do not depend on the others'): within close32
				// alone, int16 inputs would pass too.
				e.SetIntInput(false)
				yf := make([]float32, n*m.Rows)
				e.MatMul(yf, m, x, n)
				e.SetIntInput(true)
				for i := range n {
					xi := x[i*m.Cols : (i+1)*m.Cols]
					if i != bad {
						for r := range m.Rows {
							if got, f := y[i*m.Rows+r], yf[i*m.Rows+r]; got != f {
								t.Fatalf("%s x=%v: token %d row %d: %v, with float inputs %v", d, v, i, r, got, f)
							}
						}
					}
					if i == bad {
						for r := range m.Rows {
							if f := float64(y[i*m.Rows+r]); !math.IsNaN(f) && !math.IsInf(f, 0) {
								t.Fatalf("%s x=%v: token %d row %d is %v", d, v, i, r, f)
							}
						}
						continue
					}
					want, mag := refMatVec(m, xi)
					for r := range m.Rows {
						if got := y[i*m.Rows+r]; !close32(got, want[r], mag[r]) {
							t.Fatalf("%s x=%v: token %d row %d: %v, want %v", d, v, i, r, got, want[r])
						}
					}
				}
				x[bad*m.Cols+100] = 0.5
				e.MatMul(y, m, x, n)
				for i := range n {
					want, mag := wantPrefill(t, e, m, x[i*m.Cols:(i+1)*m.Cols], n)
					for r := range m.Rows {
						if got := y[i*m.Rows+r]; !close32(got, want[r], mag[r]) {
							t.Fatalf("%s after x=%v: token %d row %d: %v, want %v", d, v, i, r, got, want[r])
						}
					}
				}
			}
		}
	})
}

// TestMatMulIntPrefillChunked: a prompt multiplied in pieces (each long
// enough for the packed path) gives the bits of the whole prompt at once:
// a token's outputs depend only on its own input, whatever panel, lane or
// tail it falls in; and MatMuls of several products gives each product's
// MatMul bits, without allocating.
func TestMatMulIntPrefillChunked(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(9, 10))
		const cols, n = 384, 130
		mats := []*Mat{
			randMat(rng, Q8, 61, cols, 64, F16),
			randMat(rng, Q4, 100, cols, 64, BF16),
			randMat(rng, Q4, 7, cols, 32, F32), // another group size: its own step
		}
		x := randVec(rng, n*cols)
		for _, m := range mats {
			whole := make([]float32, n*m.Rows)
			e.MatMul(whole, m, x, n)
			part := make([]float32, n*m.Rows)
			for t0, size := 0, 0; t0 < n; t0 += size {
				size = min([]int{17, 50, 23, 40}[t0%4], n-t0)
				if n-t0-size <= qbatchMaxTokens {
					size = n - t0
				}
				e.MatMul(part[t0*m.Rows:], m, x[t0*cols:], size)
			}
			for k := range whole {
				if whole[k] != part[k] {
					t.Fatalf("%s g%d value %d: %v whole, %v in pieces", m.DType, m.GroupSize, k, whole[k], part[k])
				}
			}
		}
		ps := make([]Product, len(mats))
		for i, m := range mats {
			ps[i] = Product{Y: make([]float32, n*m.Rows), M: m}
		}
		e.MatMuls(x, n, ps...)
		for i, m := range mats {
			want := make([]float32, n*m.Rows)
			e.MatMul(want, m, x, n)
			for k := range want {
				if ps[i].Y[k] != want[k] {
					t.Fatalf("product %d value %d: %v in MatMuls, %v alone", i, k, ps[i].Y[k], want[k])
				}
			}
		}
		if a := testing.AllocsPerRun(2, func() { e.MatMuls(x, n, ps...) }); a != 0 {
			t.Fatalf("MatMuls allocates %v times per call", a)
		}
	})
}

// BenchmarkMatMulIntPrefill compares prefill's product with float inputs
// (f32: SetIntInput off) and int16 ones (i16: the default) side by side,
// on the active set, one thread: cpu-GFLOP/s is per CPU second.
func BenchmarkMatMulIntPrefill(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	for _, sh := range [][2]int{{1536, 1536}, {1536, 4096}, {896, 4864}} {
		rows, cols := sh[0], sh[1]
		for _, d := range []DType{Q8, Q4} {
			m := randMat(rng, d, rows, cols, 64, F16)
			for _, n := range []int{64, 512} {
				x := randVec(rng, n*cols)
				y := make([]float32, n*rows)
				for _, mode := range []string{"f32", "i16"} {
					b.Run(fmt.Sprintf("%dx%d/%s/n%d/%s", rows, cols, d, n, mode), func(b *testing.B) {
						pool := NewPool(1)
						defer pool.Close()
						e := NewExec(pool)
						e.SetIntInput(mode == "i16")
						flops := 2 * float64(n*rows*cols)
						cpuLoop(b, int64(flops), func() { e.MatMul(y, m, x, n) }, "FLOP")
					})
				}
			}
		}
	}
}
