package kern

import "math"

// RMSNorm writes out = x / sqrt(mean(x²) + eps) · w (all of len(x)), the
// Llama normalisation in float32 like HF's LlamaRMSNorm.
func RMSNorm(out, x, w []float32, eps float32) {
	ss := active.sumSq(x) / float32(len(x))
	r := float32(1 / math.Sqrt(float64(ss+eps)))
	active.mulInto(out, x, w[:len(x)])
	active.scale(out[:len(x)], r)
}

// Softmax replaces x by exp(x-max)/Σ in place.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	if active.maxOf != nil {
		// A NaN score makes every output NaN whichever max is taken.
		m = active.maxOf(x)
	} else {
		for _, v := range x[1:] {
			if v > m {
				m = v
			}
		}
	}
	s := active.expSum(x, m)
	active.scale(x, 1/s)
}

// SiLUMul sets a = silu(a)·b, the gated MLP activation (SwiGLU).
func SiLUMul(a, b []float32) { active.siluMul(a, b[:len(a)]) }

// Add sets y += x.
func Add(y, x []float32) { active.axpy(y, 1, x) }

// Dot returns a·b.
func Dot(a, b []float32) float32 { return active.dot(a, b[:len(a)]) }

// Scale sets y *= a.
func Scale(y []float32, a float32) { active.scale(y, a) }

// Argmax returns the index of the largest value (the first one on ties), or
// -1 for an empty slice. NaN never wins.
func Argmax(x []float32) int {
	best := -1
	var bv float32
	for i, v := range x {
		if best < 0 && v == v || v > bv {
			best, bv = i, v
		}
	}
	return best
}

// Rope holds the rotary-embedding tables, (maxPos, headDim/2) each, computed
// once per model.
type Rope struct {
	Cos, Sin []float32
	Half     int // headDim/2
	MaxPos   int
}

// NewRope tabulates cos/sin of pos·invFreq[i] for pos < maxPos; invFreq has
// headDim/2 entries (1/theta^(2i/headDim), possibly rescaled by the model's
// rope_scaling). The angles are computed in float64 so long positions keep
// their precision.
func NewRope(maxPos int, invFreq []float64) *Rope {
	h := len(invFreq)
	r := &Rope{Cos: make([]float32, maxPos*h), Sin: make([]float32, maxPos*h), Half: h, MaxPos: maxPos}
	for p := 0; p < maxPos; p++ {
		for i, f := range invFreq {
			s, c := math.Sincos(float64(p) * f)
			r.Cos[p*h+i], r.Sin[p*h+i] = float32(c), float32(s)
		}
	}
	return r
}

// InvFreq returns the default inverse frequencies 1/theta^(2i/headDim).
func InvFreq(headDim int, theta float64) []float64 {
	f := make([]float64, headDim/2)
	for i := range f {
		f[i] = 1 / math.Pow(theta, float64(2*i)/float64(headDim))
	}
	return f
}

// Apply rotates each of the heads in v (heads × 2·Half values) for position
// pos with the rotate_half convention of HF checkpoints: element i pairs with
// element i+Half.
func (r *Rope) Apply(v []float32, heads, pos int) {
	h := r.Half
	cs, sn := r.Cos[pos*h:(pos+1)*h], r.Sin[pos*h:(pos+1)*h]
	for k := 0; k < heads; k++ {
		a := v[k*2*h : k*2*h+h]
		b := v[k*2*h+h : (k+1)*2*h]
		for i := range a {
			x0, x1 := a[i], b[i]
			a[i] = x0*cs[i] - x1*sn[i]
			b[i] = x1*cs[i] + x0*sn[i]
		}
	}
}
