package reference

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// row decodes (and dequantizes) row r of a layer into x, as float64.
func row(l *model.Linear, r int, x []float64) error {
	buf := make([]float32, len(x))
	if err := l.Row(r, buf); err != nil {
		return err
	}
	for i, v := range buf {
		x[i] = float64(v)
	}
	return nil
}

// matVec is W·x (+ bias) for a layer stored (out, in).
func matVec(l *model.Linear, x []float64) ([]float64, error) {
	out, in := l.Dims()
	if in != len(x) {
		return nil, fmt.Errorf("%s: input of %d, want %d", l.Weight.Name, len(x), in)
	}
	var bias []float32
	if l.Bias != nil {
		var err error
		if bias, err = l.Bias.Float32s(); err != nil {
			return nil, err
		}
	}
	y := make([]float64, out)
	w := make([]float64, in)
	for r := range y {
		if err := row(l, r, w); err != nil {
			return nil, err
		}
		y[r] = dot(w, x)
		if bias != nil {
			y[r] += float64(bias[r])
		}
	}
	return y, nil
}

// rmsNorm is x / sqrt(mean(x²) + eps) * weight, as a new slice.
func rmsNorm(x []float64, weight *model.Tensor, eps float64) ([]float64, error) {
	w, err := weight.Float32s()
	if err != nil {
		return nil, err
	}
	if len(w) != len(x) {
		return nil, fmt.Errorf("%s: %d weights for %d values", weight.Name, len(w), len(x))
	}
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	scale := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * scale * float64(w[i])
	}
	return out, nil
}

// softmax normalises scores in place, subtracting the maximum first.
func softmax(x []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		x[i] = math.Exp(v - m)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func add(x, y []float64) {
	for i := range x {
		x[i] += y[i]
	}
}
