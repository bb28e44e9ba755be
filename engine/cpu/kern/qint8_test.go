//go:build !race

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulInt8 checks prefill products with int8 input against the exact
// float64 product: the error of each output must stay within what rounding
// x to its block's int8 grid allows, Σ|s·q|·dx/2 (the bias term uses the
// exact Σx), plus float32 accumulation error; and the products must really
// have run on int8 input (some outputs differ from the float path's).
// Without the race detector, under which the float64 bounds are slow
// (qint8_inf_test.go runs the int8 products under it).
func TestMatMulInt8(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(8, 19))
	// (group, block) pairs: blocks smaller than, equal to and (64 in 128)
	// half of the group; 21 tokens fill two panels and part of a third.
	const n = 21
	for _, d := range []DType{Q8, Q4} {
		for _, gb := range [][2]int{{32, 32}, {64, 16}, {128, 32}, {128, 64}} {
			gs, block := gb[0], gb[1]
			name := fmt.Sprintf("%s-g%d-b%d", d, gs, block)
			m := randMat(rng, d, 42, 384, gs, BF16) // a partial micro-tile, two column blocks
			x := randVec(rng, n*m.Cols)
			x[3] *= 40 // an outlier, as real activations have
			y := checkInt8(t, name, pool, m, x, n, block, func(e *Exec) { e.int8Ref = block })
			if d == Q4 && block == i8Block {
				checkPackedInt8(t, name, pool, m, x, n, y)
			}
		}
	}
}

// checkInt8 checks the int8 product that set turns on against the exact
// product and returns it.
func checkInt8(t *testing.T, name string, pool *Pool, m *Mat, x []float32, n, block int, set func(*Exec)) []float32 {
	t.Helper()
	e := NewExec(pool)
	float := make([]float32, n*m.Rows)
	e.MatMul(float, m, x, n)
	set(e)
	y := make([]float32, n*m.Rows)
	e.MatMul(y, m, x, n)
	differ := false
	for tok := range n {
		xt := x[tok*m.Cols : (tok+1)*m.Cols]
		want, mag := refMatVec(m, xt)
		for r := range m.Rows {
			var bound float64
			for b := 0; b < m.Cols; b += block {
				var amax, sq float64
				for c := b; c < b+block; c++ {
					amax = max(amax, math.Abs(float64(xt[c])))
					g := (r*m.Cols + c) / m.GroupSize
					sq += math.Abs(refWeight(m, r, c) - float64(m.Biases.At(g)))
				}
				bound += sq * amax / int8Max / 2
			}
			got := y[tok*m.Rows+r]
			if err := math.Abs(float64(got) - want[r]); err > bound*1.001+1e-4*mag[r]+1e-6 {
				t.Fatalf("%s: token %d row %d: %v, exact %v: error %.3g beyond the int8 rounding bound %.3g",
					name, tok, r, got, want[r], err, bound)
			}
			differ = differ || got != float[tok*m.Rows+r]
		}
	}
	if !differ {
		t.Errorf("%s: every output equals the float path's: int8 input not used", name)
	}
	return y
}

// checkPackedInt8 checks the kernel sets' int8 prefill (qint8pack.go) against
// the plain-Go reference's result ref: the same integer sums, so the outputs
// differ by float32 rounding only.
func checkPackedInt8(t *testing.T, name string, pool *Pool, m *Mat, x []float32, n int, ref []float32) {
	t.Helper()
	forEachImpl(t, func(t *testing.T) {
		if active.i8q4 == nil {
			return
		}
		y := checkInt8(t, name+"-packed", pool, m, x, n, i8Block, func(e *Exec) { e.SetInt8Prefill(true) })
		for tok := range n {
			_, mag := refMatVec(m, x[tok*m.Cols:(tok+1)*m.Cols])
			for r := range m.Rows {
				i := tok*m.Rows + r
				if math.Abs(float64(y[i])-float64(ref[i])) > 1e-5*mag[r]+1e-6 {
					t.Fatalf("%s: token %d row %d: kernel %v, reference %v", name, tok, r, y[i], ref[i])
				}
			}
		}
	})
}
