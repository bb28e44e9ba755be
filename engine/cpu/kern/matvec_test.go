package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type matCase struct {
	d          DType
	rows, cols int
	gs         int
	sd         DType // scales/biases type of quantized matrices
}

func (c matCase) String() string {
	if c.gs == 0 {
		return fmt.Sprintf("%s_%dx%d", c.d, c.rows, c.cols)
	}
	return fmt.Sprintf("%s_%dx%d_g%d_%s", c.d, c.rows, c.cols, c.gs, c.sd)
}

// matCases covers every type with shapes that exercise the tails: rows not a
// multiple of the row block, columns not a multiple of the vector width
// (stories260K's 172; 48 is one pair of 16-wide blocks and a single
// one), a single row, and sizes big enough to go parallel.
func matCases() []matCase {
	var cs []matCase
	for _, d := range []DType{F32, F16, BF16} {
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {8, 16}, {13, 172}, {5, 48}, {64, 172}, {37, 257}, {300, 640}} {
			cs = append(cs, matCase{d: d, rows: sh[0], cols: sh[1]})
		}
	}
	for _, d := range []DType{Q8, Q4} {
		for _, gs := range []int{32, 64, 128} {
			for _, sh := range [][2]int{{1, 128}, {9, 384}, {67, 640}, {260, 512}} {
				cs = append(cs, matCase{d: d, rows: sh[0], cols: sh[1], gs: gs, sd: F16})
			}
		}
		cs = append(cs,
			matCase{d: d, rows: 5, cols: 96, gs: 32, sd: F32},
			matCase{d: d, rows: 11, cols: 192, gs: 64, sd: BF16},
			matCase{d: d, rows: 7, cols: 160, gs: 32, sd: BF16})
	}
	return cs
}

func checkMatVec(t *testing.T, e *Exec, m *Mat, x []float32) {
	t.Helper()
	if err := m.Check(); err != nil {
		t.Fatalf("bad test matrix: %v", err)
	}
	y := make([]float32, m.Rows)
	e.MatVec(y, m, x)
	want, mag := refMatVec(m, x)
	for r := range y {
		if !close32(y[r], want[r], mag[r]) {
			t.Fatalf("row %d: got %v, want %v (Σ|wx| %v)", r, y[r], want[r], mag[r])
		}
	}
}

func TestMatVec(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, threads := range []int{1, 3} {
			pool := NewPool(threads)
			e := NewExec(pool)
			for i, c := range matCases() {
				t.Run(fmt.Sprintf("t%d/%s", threads, c), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(i), 1))
					m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
					checkMatVec(t, e, m, randVec(rng, c.cols))
				})
			}
			pool.Close()
		}
	})
}

// TestMatMulLong covers a prompt long enough that the tokens are packed on
// every thread, with several column blocks and a half panel last.
func TestMatMulLong(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		for i, c := range []matCase{
			{d: F32, rows: 50, cols: 700},
			{d: BF16, rows: 49, cols: 576},
			{d: Q4, rows: 50, cols: 768, gs: 64, sd: F16},
			{d: Q8, rows: 13, cols: 640, gs: 128, sd: BF16},
		} {
			t.Run(c.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(i), 5))
				m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
				const n = 70
				checkMatMul(t, e, m, randVec(rng, n*c.cols), n)
			})
		}
	})
}

func checkMatMul(t *testing.T, e *Exec, m *Mat, x []float32, n int) {
	t.Helper()
	y := make([]float32, n*m.Rows)
	e.MatMul(y, m, x, n)
	for i := 0; i < n; i++ {
		want, mag := refMatVec(m, x[i*m.Cols:(i+1)*m.Cols])
		for r := range want {
			if got := y[i*m.Rows+r]; !close32(got, want[r], mag[r]) {
				t.Fatalf("token %d row %d: got %v, want %v", i, r, got, want[r])
			}
		}
	}
}

// fuzzMat derives a valid matrix case from fuzzer input.
func fuzzMat(kind, rows, cols, gsel uint8) matCase {
	ds := []DType{F32, F16, BF16, Q8, Q4}
	c := matCase{d: ds[int(kind)%len(ds)], rows: 1 + int(rows)%40}
	if c.d == Q8 || c.d == Q4 {
		c.gs = []int{32, 64, 128}[int(gsel)%3]
		c.sd = []DType{F32, F16, BF16}[int(gsel/3)%3]
		c.cols = c.gs * (1 + int(cols)%6)
	} else {
		c.cols = 1 + int(cols)
	}
	return c
}

func FuzzMatVec(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint8(12), uint8(171), uint8(0))
	f.Add(uint64(2), uint8(1), uint8(7), uint8(33), uint8(0))
	f.Add(uint64(3), uint8(3), uint8(39), uint8(5), uint8(4))
	f.Add(uint64(4), uint8(4), uint8(9), uint8(2), uint8(8))
	pool := NewPool(2)
	f.Cleanup(pool.Close)
	f.Fuzz(func(t *testing.T, seed uint64, kind, rows, cols, gsel uint8) {
		c := fuzzMat(kind, rows, cols, gsel)
		forEachImpl(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 3))
			m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
			checkMatVec(t, NewExec(pool), m, randVec(rng, c.cols))
		})
	})
}

func FuzzMatMul(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint8(35), uint8(171), uint8(0), uint8(3))
	f.Add(uint64(2), uint8(2), uint8(3), uint8(16), uint8(0), uint8(7))
	f.Add(uint64(3), uint8(4), uint8(33), uint8(1), uint8(2), uint8(5))
	pool := NewPool(2)
	f.Cleanup(pool.Close)
	f.Fuzz(func(t *testing.T, seed uint64, kind, rows, cols, gsel, n uint8) {
		c := fuzzMat(kind, rows, cols, gsel)
		tokens := 1 + int(n)%40 // up to three panels of packNR
		forEachImpl(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 4))
			m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
			checkMatMul(t, NewExec(pool), m, randVec(rng, tokens*c.cols), tokens)
		})
	})
}

// TestMatVecs fuses products that share x; a product of another type is
// computed on its own, and every result must match the reference.
func TestMatVecs(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		rng := rand.New(rand.NewPCG(4, 4))
		ms := []*Mat{
			randMat(rng, Q4, 96, 256, 32, F16), randMat(rng, Q4, 32, 256, 32, F16),
			randMat(rng, Q8, 40, 256, 32, F16), randMat(rng, F32, 300, 256, 0, 0),
		}
		x := randVec(rng, 256)
		ps := make([]Product, len(ms))
		for i, m := range ms {
			ps[i] = Product{make([]float32, m.Rows), m}
		}
		e.MatVecs(x, ps...)
		for i, p := range ps {
			want, mag := refMatVec(p.M, x)
			for r := range want {
				if !close32(p.Y[r], want[r], mag[r]) {
					t.Fatalf("product %d row %d: %v, want %v", i, r, p.Y[r], want[r])
				}
			}
		}
	})
}

// TestGemmStrided calls the gemm kernels on rows that are not packed
// (lda, ldb > k), with every remainder of the 4×4 blocking.
func TestGemmStrided(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, sh := range [][3]int{{1, 1, 5}, {3, 5, 17}, {4, 4, 16}, {7, 9, 33}, {9, 6, 64}, {5, 6, 2100}} {
			m, n, k := sh[0], sh[1], sh[2]
			lda, ldb, ldc := k+3, k+5, n+2
			rng := rand.New(rand.NewPCG(uint64(m), uint64(k)))
			a, b := randVec(rng, m*lda), randVec(rng, n*ldb)
			c := make([]float32, m*ldc)
			active.gemm(c, ldc, a, lda, b, ldb, m, n, k)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					want := refDot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k])
					if math.Abs(float64(c[i*ldc+j])-want) > 1e-4*float64(k) {
						t.Fatalf("%v: c[%d][%d] = %v, want %v", sh, i, j, c[i*ldc+j], want)
					}
				}
			}
		}
	})
}

// TestMatVecNonFinite puts an Inf and a NaN among F16 weights: Check must
// notice, and every kernel set must then give the row Inf (resp. NaN) like
// the reference, and the other rows their normal values.
func TestMatVecNonFinite(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 1))
		m := randMat(rng, F16, 8, 64, 0, 0)
		m.U16[2*64+5] = 0x7c00  // +Inf
		m.U16[6*64+40] = 0x7e00 // NaN
		if err := m.Check(); err != nil || m.finite {
			t.Fatalf("Check: %v, finite %v", err, m.finite)
		}
		x := make([]float32, 64)
		for i := range x {
			x[i] = 0.5 + rng.Float32()
		}
		y := make([]float32, 8)
		pool := NewPool(1)
		defer pool.Close()
		NewExec(pool).MatVec(y, m, x)
		want, mag := refMatVec(m, x)
		for r := range y {
			switch r {
			case 2:
				if !math.IsInf(float64(y[r]), 1) {
					t.Errorf("row 2: %v, want +Inf", y[r])
				}
			case 6:
				if !math.IsNaN(float64(y[r])) {
					t.Errorf("row 6: %v, want NaN", y[r])
				}
			default:
				if !close32(y[r], want[r], mag[r]) {
					t.Errorf("row %d: %v, want %v", r, y[r], want[r])
				}
			}
		}
	})
}

// TestGroupSumsInOrder checks groupSums against the plain loop, group by
// group front to back, bit for bit: the eight chains at a time must not
// change any group's order of additions (the integer kernels' bias term, and
// so their bits, depend on it).
func TestGroupSumsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, gs := range []int{32, 64, 128} {
		for ng := 1; ng <= 21; ng++ {
			x := randVec(rng, ng*gs)
			got := make([]float32, ng)
			groupSums(got, x, gs)
			for g := range ng {
				var want float32
				for _, v := range x[g*gs : (g+1)*gs] {
					want += v
				}
				if math.Float32bits(got[g]) != math.Float32bits(want) {
					t.Fatalf("gs %d, %d groups: group %d sums to %v, want %v", gs, ng, g, got[g], want)
				}
			}
		}
	}
}
