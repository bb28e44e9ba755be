package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forEachBatchSet runs f on every kernel set, and once more on each set that
// has batched kernels with them removed, so that batchRows (the path of the
// sets without them) is tested on every CPU.
func forEachBatchSet(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	forEachImpl(t, func(t *testing.T) {
		t.Run("kernels", f)
		if active.batchQ == nil && active.batchQi == nil {
			return
		}
		t.Run("rows", func(t *testing.T) {
			saved := active
			im := *active
			im.batchQ, im.batchQi = nil, nil
			active = &im
			defer func() { active = saved }()
			f(t)
		})
	})
}

// TestMatMulBatched checks the batched decode product at every batch size
// that takes it, in both input modes: each input's result must be what MatVec
// gives that input alone and what the float64 reference of that mode gives
// (float x, or x rounded to int16 as qint.go does), to float32 summation.
func TestMatMulBatched(t *testing.T) {
	small := []int{2, 3, 4, 5, 6, 8, 9, 16} // blocks of 8, 4 and 2, odd tails, the largest batch
	for i, c := range []struct {
		matCase
		ns      []int
		threads int
	}{
		{matCase{d: Q8, rows: 13, cols: 384, gs: 32, sd: F16}, small, 1},
		{matCase{d: Q4, rows: 13, cols: 384, gs: 64, sd: F16}, small, 1},
		{matCase{d: Q8, rows: 9, cols: 256, gs: 128, sd: BF16}, []int{3, 4, 8}, 1},
		{matCase{d: Q4, rows: 8, cols: 512, gs: 256, sd: F16}, []int{7, 13}, 1}, // a padded block; eight, four and one
		{matCase{d: Q4, rows: 5, cols: 128, gs: 128, sd: F32}, []int{2, 7}, 1},
		{matCase{d: Q4, rows: 6, cols: 96, gs: 32, sd: F16}, []int{4}, 1}, // qbatchInt2x4's groups of one unit
		// Big enough to go parallel, rows not a multiple of the chunks.
		{matCase{d: Q4, rows: 130, cols: 256, gs: 32, sd: BF16}, []int{7}, 3},
		{matCase{d: Q8, rows: 97, cols: 320, gs: 64, sd: F16}, []int{6}, 3},
		// Inputs enough to be prepared in parallel (qprepParallelMin).
		{matCase{d: Q4, rows: 34, cols: 1024, gs: 64, sd: F16}, []int{4, 7, 8}, 2},
	} {
		t.Run(fmt.Sprintf("%s/t%d", c.matCase, c.threads), func(t *testing.T) {
			forEachBatchSet(t, func(t *testing.T) {
				pool := NewPool(c.threads)
				defer pool.Close()
				for _, qi := range []bool{false, true} {
					e := NewExec(pool)
					e.SetIntInput(qi)
					for _, n := range c.ns {
						t.Run(fmt.Sprintf("int=%v/n%d", qi, n), func(t *testing.T) {
							rng := rand.New(rand.NewPCG(uint64(i), uint64(n)))
							m := randMat(rng, c.d, c.rows, c.cols, c.gs, c.sd)
							checkBatched(t, e, m, randVec(rng, n*c.cols), n)
						})
					}
				}
			})
		})
	}
}

func checkBatched(t *testing.T, e *Exec, m *Mat, x []float32, n int) {
	t.Helper()
	if err := m.Check(); err != nil {
		t.Fatalf("bad test matrix: %v", err)
	}
	y := make([]float32, n*m.Rows)
	e.MatMul(y, m, x, n)
	alone := make([]float32, m.Rows)
	for i := range n {
		xi := x[i*m.Cols : (i+1)*m.Cols]
		e.MatVec(alone, m, xi)
		want, mag := refMatVec(m, xi)
		if e.IntInput() {
			var in qin
			in.prepare(m, xi)
			if !in.prepareInt(m) {
				t.Fatal("finite x refused")
			}
			want, mag = i8Ref(m, &in)
		}
		for r := range m.Rows {
			got := y[i*m.Rows+r]
			if !close32(got, want[r], mag[r]) {
				t.Fatalf("input %d row %d: got %v, want %v (Σ|terms| %v)", i, r, got, want[r], mag[r])
			}
			if !close32(got, float64(alone[r]), mag[r]) {
				t.Fatalf("input %d row %d: got %v batched, %v alone (Σ|terms| %v)", i, r, got, alone[r], mag[r])
			}
		}
	}
}

// TestMatMulBatchedExtreme drives the integer kernels' int32 sums to their
// largest: Q8 codes all 255 and every input at its group's maximum (int16
// 32767) over groups of 256, so a group's sum, 256·255·32767, is just below
// 2³¹. The batched result must be the lone product's.
func TestMatMulBatchedExtreme(t *testing.T) {
	forEachBatchSet(t, func(t *testing.T) {
		pool := NewPool(1)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(7, 7))
		for _, d := range []DType{Q8, Q4} {
			m := randMat(rng, d, 8, 512, 256, F16)
			for i := range m.Q {
				m.Q[i] = 255
			}
			for _, n := range []int{4, 8} {
				x := make([]float32, n*m.Cols)
				for i := range x {
					x[i] = float32(1 + i/m.Cols) // one value per input: all xw = 32767
				}
				checkBatched(t, e, m, x, n)
			}
		}
	})
}

// A non-finite input in a batch with integer inputs goes through the float
// kernels, as it would alone, and the other inputs keep their int16 rounding.
func TestMatMulBatchedNonFinite(t *testing.T) {
	forEachBatchSet(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		e.SetIntInput(true)
		rng := rand.New(rand.NewPCG(5, 5))
		for _, c := range []struct {
			d    DType
			cols int
		}{{Q8, 128}, {Q4, 128}, {Q8, 1024}} { // 1024: prepared in parallel
			const n = 5
			d, cols := c.d, c.cols
			m := randMat(rng, d, 24, cols, 64, F16)
			x := randVec(rng, n*cols)
			x[2*cols+7] = float32(math.Inf(-1))
			y := make([]float32, n*m.Rows)
			e.MatMul(y, m, x, n)
			alone := make([]float32, m.Rows)
			for i := range n {
				xi := x[i*cols : (i+1)*cols]
				e.MatVec(alone, m, xi)
				_, mag := refMatVec(m, xi)
				for r := range m.Rows {
					got, want := y[i*m.Rows+r], alone[r]
					switch {
					case i == 2:
						if !math.IsNaN(float64(got)) && !math.IsInf(float64(got), 0) {
							t.Fatalf("%s input %d row %d: %v from a non-finite input", d, i, r, got)
						}
					case e.IntInput() && got != want, !close32(got, float64(want), mag[r]):
						// With integer inputs the batch went through MatVec.
						t.Fatalf("%s input %d row %d: got %v, alone %v", d, i, r, got, want)
					}
				}
			}
		}
	})
}

func TestMatMulBatchedNoAlloc(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(2, 3))
	m := randMat(rng, Q4, 256, 1024, 64, BF16) // inputs prepared in parallel
	const n = 7
	x, y := randVec(rng, n*1024), make([]float32, n*256)
	for _, qi := range []bool{false, true} {
		e := NewExec(pool)
		e.SetIntInput(qi)
		e.MatMul(y, m, x, n) // warm-up sizes the scratch
		if a := testing.AllocsPerRun(20, func() { e.MatMul(y, m, x, n) }); a != 0 {
			t.Fatalf("int=%v: batched MatMul allocates %v times per call", qi, a)
		}
	}
}

// TestMatMuls: products sharing an input, of equal and of different
// layouts, give what MatMul gives each alone, bit for bit, on every set and
// in both input modes; n = 1 goes through MatVecs.
func TestMatMuls(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(2)
		defer pool.Close()
		rng := rand.New(rand.NewPCG(8, 9))
		const cols = 256
		mats := []*Mat{
			randMat(rng, Q8, 40, cols, 64, F16),
			randMat(rng, Q8, 24, cols, 64, F16),
			randMat(rng, Q4, 24, cols, 64, F16), // another layout: its own preparation
			randMat(rng, Q8, 8, cols, 32, BF16),
			randMat(rng, F16, 16, cols, 0, F16),
		}
		for _, m := range mats {
			if err := m.Check(); err != nil {
				t.Fatalf("bad test matrix: %v", err)
			}
		}
		for _, qi := range []bool{false, true} {
			e := NewExec(pool)
			e.SetIntInput(qi)
			for _, n := range []int{1, 5, 8} {
				x := randVec(rng, n*cols)
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
							t.Fatalf("int=%v n=%d product %d (%s) value %d: %v, alone %v", qi, n, i, m.DType, k, ps[i].Y[k], want[k])
						}
					}
				}
			}
		}
	})
}

// TestMatMulBatchedHalf checks the batched product with F16 and BF16 weights
// at every batch size that takes it (odd rows, inputs past the last four),
// on every set: each input's result is what MatVec gives it alone and what
// the float64 reference gives, to float32 summation.
func TestMatMulBatchedHalf(t *testing.T) {
	for i, c := range []struct {
		matCase
		ns      []int
		threads int
	}{
		{matCase{d: F16, rows: 13, cols: 96}, []int{2, 3, 4, 5, 8, 11, 16}, 1},
		{matCase{d: BF16, rows: 13, cols: 96}, []int{2, 4, 7}, 1},
		{matCase{d: F16, rows: 130, cols: 256}, []int{4, 6}, 3}, // parallel
		{matCase{d: BF16, rows: 97, cols: 320}, []int{8, 13}, 2},
		{matCase{d: F16, rows: 9, cols: 100}, []int{4}, 1},     // columns not a multiple of 8: decode's kernels
		{matCase{d: BF16, rows: 7, cols: 104}, []int{4, 5}, 1}, // a multiple of 8, not 16: avx512 takes the 8-wide kernel
	} {
		t.Run(fmt.Sprintf("%s/%dx%d/t%d", c.d, c.rows, c.cols, c.threads), func(t *testing.T) {
			forEachImpl(t, func(t *testing.T) {
				pool := NewPool(c.threads)
				defer pool.Close()
				e := NewExec(pool)
				for _, n := range c.ns {
					rng := rand.New(rand.NewPCG(uint64(i), uint64(n)))
					m := randMat(rng, c.d, c.rows, c.cols, 0, F16)
					if err := m.Check(); err != nil {
						t.Fatalf("bad test matrix: %v", err)
					}
					x := randVec(rng, n*c.cols)
					y := make([]float32, n*m.Rows)
					e.MatMul(y, m, x, n)
					alone := make([]float32, m.Rows)
					for j := range n {
						xj := x[j*c.cols : (j+1)*c.cols]
						e.MatVec(alone, m, xj)
						want, mag := refMatVec(m, xj)
						for r := range m.Rows {
							got := y[j*m.Rows+r]
							if !close32(got, want[r], mag[r]) || !close32(got, float64(alone[r]), mag[r]) {
								t.Fatalf("n=%d input %d row %d: got %v, alone %v, want %v (Σ|terms| %v)", n, j, r, got, alone[r], want[r], mag[r])
							}
						}
					}
				}
			})
		})
	}
}

// An Inf among F16 weights reaches the batched outputs of its row as it
// reaches decode's.
func TestMatMulBatchedHalfInf(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pool := NewPool(1)
		defer pool.Close()
		e := NewExec(pool)
		rng := rand.New(rand.NewPCG(3, 3))
		const n, cols = 4, 64
		m := randMat(rng, F16, 6, cols, 0, F16)
		m.U16[3*cols+10] = 0x7c00 // +Inf
		if err := m.Check(); err != nil {
			t.Fatal(err)
		}
		x := randVec(rng, n*cols)
		y := make([]float32, n*m.Rows)
		e.MatMul(y, m, x, n)
		alone := make([]float32, m.Rows)
		for j := range n {
			e.MatVec(alone, m, x[j*cols:(j+1)*cols])
			got := y[j*m.Rows+3]
			if math.IsNaN(float64(alone[3])) != math.IsNaN(float64(got)) || (!math.IsNaN(float64(got)) && got != alone[3]) {
				t.Fatalf("input %d: row with an Inf weight gives %v batched, %v alone", j, got, alone[3])
			}
		}
	})
}
