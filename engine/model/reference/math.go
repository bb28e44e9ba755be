package reference

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// dense is a layer decoded to float64: W (out, in) row-major and its bias.
type dense struct {
	out, in int
	w       []float64 // (out, in)
	bias    []float64 // (out); nil when absent
}

// decodeLinear decodes (and dequantizes) every row of a layer through the
// same Linear.Row the executors' tests use.
func decodeLinear(l *model.Linear) (*dense, error) {
	out, in := l.Dims()
	d := &dense{out: out, in: in, w: make([]float64, out*in)}
	buf := make([]float32, in)
	for r := range out {
		if err := l.Row(r, buf); err != nil {
			return nil, err
		}
		for i, v := range buf {
			d.w[r*in+i] = float64(v)
		}
	}
	if l.Bias != nil {
		b, err := l.Bias.Float32s()
		if err != nil {
			return nil, err
		}
		d.bias = widen(b)
	}
	return d, nil
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// matVec is W·x (+ bias).
func (d *dense) matVec(x []float64) ([]float64, error) {
	if d.in != len(x) {
		return nil, fmt.Errorf("input of %d, want %d", len(x), d.in)
	}
	y := make([]float64, d.out)
	for r := range y {
		y[r] = dot(d.w[r*d.in:(r+1)*d.in], x)
		if d.bias != nil {
			y[r] += d.bias[r]
		}
	}
	return y, nil
}

// rmsNorm is x / sqrt(mean(x²) + eps) * weight, as a new slice.
func rmsNorm(x, weight []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	scale := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * scale * weight[i]
	}
	return out
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
