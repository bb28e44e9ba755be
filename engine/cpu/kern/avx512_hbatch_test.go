//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestHbatch4SameBits: the four-row half kernels (hbatch4xKZ, every K
// through avx512BatchHalf's split of n = 1..16 inputs) give hbatch2x4Z's
// outputs bit for bit, F16 and BF16, with rows past the last four (decode's
// row kernel, compared with MatVec's) and a sub-range of rows as a parallel
// chunk takes it.
func TestHbatch4SameBits(t *testing.T) {
	if !hasF16C {
		t.Skip("no F16C: neither kernel runs on this CPU")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	pool := NewPool(1)
	defer pool.Close()
	e := NewExec(pool)
	for _, d := range []DType{F16, BF16} {
		for _, sh := range [][2]int{{13, 96}, {8, 16}, {22, 512}} {
			rows, cols := sh[0], sh[1]
			m := randMat(rng, d, rows, cols, 0, F16)
			if d == F16 {
				m.U16[5*cols+7] = 0x7c00 // +Inf reaches its row's outputs
			}
			for n := 1; n <= 16; n++ {
				t.Run(fmt.Sprintf("%s/%dx%d/n%d", d, rows, cols, n), func(t *testing.T) {
					pad := (n + 3) &^ 3
					x := make([]float32, pad*cols)
					copy(x, randVec(rng, n*cols))
					y := make([]float32, n*rows)
					for i := range y {
						y[i] = float32(math.NaN()) // every output is written
					}
					avx512BatchHalf(y, m, 0, rows, x[:n*cols], n)
					var out [8]float32
					for r := 0; r+1 < rows-rows%4; r += 2 {
						for j := 0; j < n; j += 4 {
							hbatch2x4Z(unsafe.Pointer(&m.U16[r*cols]), 2*cols, &x[j*cols], 4*cols, cols, d == BF16, &out[0])
							for i := range min(4, n-j) {
								for rr := range 2 {
									got, want := y[(j+i)*rows+r+rr], out[4*rr+i]
									if math.Float32bits(got) != math.Float32bits(want) {
										t.Fatalf("input %d row %d: %v, hbatch2x4Z %v", j+i, r+rr, got, want)
									}
								}
							}
						}
					}
					alone := make([]float32, rows)
					for j := range n {
						e.MatVec(alone, m, x[j*cols:(j+1)*cols])
						for r := rows - rows%4; r < rows; r++ {
							if got := y[j*rows+r]; math.Float32bits(got) != math.Float32bits(alone[r]) {
								t.Fatalf("input %d row %d past the last four: %v, alone %v", j, r, got, alone[r])
							}
						}
					}
					// Rows 4..rows-1 as a chunk: the same bits.
					y2 := make([]float32, n*rows)
					avx512BatchHalf(y2, m, 4, rows, x[:n*cols], n)
					for j := range n {
						for r := 4; r < rows-rows%4; r++ {
							if a, b := y2[j*rows+r], y[j*rows+r]; math.Float32bits(a) != math.Float32bits(b) {
								t.Fatalf("input %d row %d from row 4: %v, from row 0 %v", j, r, a, b)
							}
						}
					}
				})
			}
		}
	}
}
