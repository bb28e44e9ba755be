package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Naive float64 references: the simplest correct code, the definition every
// kernel set is tested against.

// refWeight is element (r, c) of m as the model defines it.
func refWeight(m *Mat, r, c int) float64 {
	i := r*m.Cols + c
	switch m.DType {
	case F32:
		return float64(m.F32[i])
	case F16:
		return float64(F16ToF32(m.U16[i]))
	case BF16:
		return float64(BF16ToF32(m.U16[i]))
	}
	var q int
	if m.DType == Q8 {
		q = int(m.Q[i])
	} else {
		q = int(m.Q[i/2]>>(4*(i%2))) & 15
	}
	g := i / m.GroupSize
	return float64(m.Scales.At(g))*float64(q) + float64(m.Biases.At(g))
}

// refMatVec returns m·x and Σ|w·x| per row (the scale of rounding errors).
func refMatVec(m *Mat, x []float32) (y, mag []float64) {
	y, mag = make([]float64, m.Rows), make([]float64, m.Rows)
	for r := 0; r < m.Rows; r++ {
		for c := 0; c < m.Cols; c++ {
			p := refWeight(m, r, c) * float64(x[c])
			y[r] += p
			mag[r] += math.Abs(p)
		}
	}
	return y, mag
}

// close32 reports whether got is within float32 accumulation error of want,
// given the magnitude of the summed terms.
func close32(got float32, want, mag float64) bool {
	return math.Abs(float64(got)-want) <= 1e-4*mag+1e-6
}

func refSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	out := make([]float64, len(x))
	var s float64
	for i, v := range x {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// refAttention is causal GQA attention in float64 over float32 inputs, with
// soft-capped scores (Gemma 2) and a sink logit per head (GPT-OSS: the sink
// joins the softmax and is dropped from its output) when a has them.
func refAttention(q []float32, nq, pos0 int, k, v []float32, a Attn) []float64 {
	hd, qDim, kvDim := a.HeadDim, a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	out := make([]float64, nq*qDim)
	for i := 0; i < nq; i++ {
		first, last := 0, pos0+i
		if a.Window > 0 {
			first = max(0, last-a.Window+1)
		}
		for h := 0; h < a.Heads; h++ {
			g := h / (a.Heads / a.KVHeads)
			s := make([]float64, last-first+1)
			for j := range s {
				p := first + j
				for d := 0; d < hd; d++ {
					s[j] += float64(q[i*qDim+h*hd+d]) * float64(k[p*kvDim+g*hd+d])
				}
				s[j] *= float64(a.Scale)
				if c := float64(a.Softcap); c > 0 {
					s[j] = c * math.Tanh(s[j]/c)
				}
			}
			if a.Sinks != nil {
				s = append(s, float64(a.Sinks[h]))
			}
			w := refSoftmax(s)[:last-first+1]
			for j, wp := range w {
				for d := 0; d < hd; d++ {
					out[i*qDim+h*hd+d] += wp * float64(v[(first+j)*kvDim+g*hd+d])
				}
			}
		}
	}
	return out
}

// randMat builds a random matrix of the given type; quantized ones use
// scales/biases stored as sd (F32, F16 or BF16) and realistic magnitudes.
func randMat(rng *rand.Rand, d DType, rows, cols, gs int, sd DType) *Mat {
	m := &Mat{DType: d, Rows: rows, Cols: cols}
	n := rows * cols
	switch d {
	case F32:
		m.F32 = make([]float32, n)
		for i := range m.F32 {
			m.F32[i] = float32(rng.NormFloat64())
		}
	case F16, BF16:
		m.U16 = make([]uint16, n)
		for i := range m.U16 {
			f := float32(rng.NormFloat64())
			if d == F16 {
				m.U16[i] = F32ToF16(f)
			} else {
				m.U16[i] = F32ToBF16(f)
			}
		}
	case Q8, Q4:
		m.GroupSize = gs
		if d == Q4 {
			n /= 2
		}
		m.Q = make([]byte, n)
		for i := range m.Q {
			m.Q[i] = byte(rng.Uint32())
		}
		m.Scales = randFloats(rng, sd, rows*cols/gs, 0.01, 0.1)
		m.Biases = randFloats(rng, sd, rows*cols/gs, -1, 1)
	}
	if err := m.Check(); err != nil {
		panic(err) // a bug in this helper
	}
	return m
}

func randFloats(rng *rand.Rand, d DType, n int, lo, hi float64) Floats {
	f := Floats{DType: d}
	for i := 0; i < n; i++ {
		v := float32(lo + (hi-lo)*rng.Float64())
		switch d {
		case F32:
			f.F32 = append(f.F32, v)
		case F16:
			f.U16 = append(f.U16, F32ToF16(v))
		default:
			f.U16 = append(f.U16, F32ToBF16(v))
		}
	}
	return f
}

func randVec(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// onlyImpl, when set, is the one kernel set forEachImpl runs: a test that
// changes one set's path (TestAVX2WithoutF16C) reruns other tests on that set
// alone, not again on the sets it does not touch.
var onlyImpl string

// forEachImpl runs f once per kernel set available in this build and CPU
// (or onlyImpl's), with that set active.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, im := range impls() {
		if onlyImpl != "" && im.name != onlyImpl {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			saved := active
			active = im
			defer func() { active = saved }()
			f(t)
		})
	}
}
