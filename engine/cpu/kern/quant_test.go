package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantize(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	for _, c := range []struct {
		src    DType
		bits   int
		gs     int
		scales DType
	}{
		{F32, 8, 64, F32}, {F16, 4, 32, F16}, {BF16, 4, 128, BF16}, {F16, 8, 64, F16},
	} {
		t.Run(fmt.Sprintf("%s-q%d-g%d-%s", c.src, c.bits, c.gs, c.scales), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.bits), uint64(c.gs)))
			m := randMat(rng, c.src, 70, 256, 0, 0)
			q, err := Quantize(pool, m, c.bits, c.gs, c.scales)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Check(); err != nil {
				t.Fatal(err)
			}
			levels := float64(int(1)<<c.bits - 1)
			for r := 0; r < m.Rows; r++ {
				for col := 0; col < m.Cols; col++ {
					g := (r*m.Cols + col) / c.gs
					step := float64(q.Scales.At(g))
					orig, got := refWeight(m, r, col), refWeight(q, r, col)
					// Half a step, plus what rounding the bias to the scales'
					// type may add at the ends of the range.
					if d := math.Abs(orig - got); d > step/2*1.01+math.Abs(orig)/256+1e-6 {
						t.Fatalf("row %d col %d: %v quantized to %v (step %v, %v levels)", r, col, orig, got, step, levels)
					}
				}
			}
		})
	}
	if _, err := Quantize(pool, &Mat{DType: F32, Rows: 1, Cols: 48, F32: make([]float32, 48)}, 4, 32, F16); err == nil {
		t.Error("48 columns in groups of 32 quantized without error")
	}
	if _, err := Quantize(pool, &Mat{DType: F32, Rows: 1, Cols: 64, F32: make([]float32, 64)}, 3, 32, F16); err == nil {
		t.Error("3 bits accepted")
	}
}
