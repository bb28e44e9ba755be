package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulInt8NonFinite checks that an Inf in x reaches the output as the
// float kernels carry it instead of being quantized away.
func TestMatMulInt8NonFinite(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	m := randMat(rng, Q4, 16, 64, 32, F16)
	const n = qbatchMaxTokens + 2
	x := randVec(rng, n*m.Cols)
	x[m.Cols+7] = float32(math.Inf(1))
	for _, set := range []func(*Exec){
		func(e *Exec) { e.SetInt8Prefill(true) },
		func(e *Exec) { e.int8Ref = 32 },
	} {
		e := NewExec(pool)
		set(e)
		y := make([]float32, n*m.Rows)
		e.MatMul(y, m, x, n)
		for r, v := range y[m.Rows : 2*m.Rows] {
			if !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v)) {
				t.Fatalf("row %d of the token with an Inf input: %v, want Inf or NaN", r, v)
			}
		}
	}
}
