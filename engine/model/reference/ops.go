package reference

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// mat is the reference executor's model.Value: (rows, cols) row-major float64.
type mat struct {
	rows, cols int
	d          []float64
}

func newMat(rows, cols int) *mat { return &mat{rows: rows, cols: cols, d: make([]float64, rows*cols)} }

func (m *mat) row(i int) []float64 { return m.d[i*m.cols : (i+1)*m.cols] }

// val asserts that v is one of ours: anything else is a bug in a family.
func val(v model.Value) *mat {
	m, ok := v.(*mat)
	if !ok {
		panic(fmt.Sprintf("reference: value of type %T", v))
	}
	return m
}

// ops runs a family's forward pass on one batch of tokens of a sequence, in
// float64, with the plainest arithmetic that follows the definitions of
// model.Ops. Errors (a weight that cannot be decoded) panic and are
// recovered by sequence.step.
type ops struct {
	s      *sequence
	tokens []int32
	types  []int32  // token type ids of an encoder's input; nil: all 0
	pos    int      // position of the first token
	rpos   int      // its rotary position: pos, but behind it after images under M-RoPE
	pos3   [][3]int // M-RoPE positions of each token when they hold an image; nil: rpos+i thrice

	spans []model.ImageSpan // images among the tokens (vision.go)
	grid  [3]int            // patches (t, h, w) of the image a tower of dynamic size runs on (visiongrid.go)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(stepError{err})
	}
	return v
}

// stepError carries an error out of an operation to sequence.step.
type stepError struct{ err error }

func (o *ops) Embed(w *model.Linear) model.Value {
	_, in := w.Dims()
	out := newMat(len(o.tokens), in)
	row := make([]float32, in)
	for i, t := range o.tokens {
		// Embeddings are looked up one row at a time rather than decoded whole,
		// so vocabulary-sized tables are not copied.
		must(0, w.Row(int(t), row))
		for j, v := range row {
			out.d[i*in+j] = float64(v)
		}
	}
	return out
}

func (o *ops) Linear(x model.Value, w *model.Linear) model.Value {
	xm := val(x)
	d := must(o.s.r.w.linear(w))
	if d.in != xm.cols {
		panic(fmt.Sprintf("reference: %s: input of %d, want %d", w.Weight.Name, xm.cols, d.in))
	}
	out := newMat(xm.rows, d.out)
	for i := range xm.rows {
		copy(out.row(i), must(d.matVec(xm.row(i))))
	}
	return out
}

func (o *ops) Linear2(x model.Value, a, b *model.Linear) (model.Value, model.Value) {
	return o.Linear(x, a), o.Linear(x, b)
}

func (o *ops) Linear3(x model.Value, a, b, c *model.Linear) (model.Value, model.Value, model.Value) {
	return o.Linear(x, a), o.Linear(x, b), o.Linear(x, c)
}

func (o *ops) RMSNorm(x model.Value, w *model.Tensor, eps, offset float64) model.Value {
	xm := val(x)
	wv := o.vector(w, xm.cols)
	g := len(wv)
	scaled := make([]float64, g)
	for i, v := range wv {
		scaled[i] = v + offset
	}
	out := newMat(xm.rows, xm.cols)
	for j := 0; j < len(xm.d); j += g {
		copy(out.d[j:j+g], rmsNorm(xm.d[j:j+g], scaled, eps))
	}
	return out
}

// vector is w decoded, checked to divide a row of cols features into groups.
func (o *ops) vector(w *model.Tensor, cols int) []float64 {
	wv := must(o.s.r.w.vector(w))
	if len(wv) == 0 || cols%len(wv) != 0 {
		panic(fmt.Sprintf("reference: %s: %d weights for rows of %d", w.Name, len(wv), cols))
	}
	return wv
}

func (o *ops) LayerNorm(x model.Value, w, b *model.Tensor, eps float64) model.Value {
	xm := val(x)
	wv := o.vector(w, xm.cols)
	var bv []float64
	if b != nil {
		bv = o.vector(b, xm.cols)
	}
	out := newMat(xm.rows, xm.cols)
	for i := range xm.rows {
		r, y := xm.row(i), out.row(i)
		var mean, vr float64
		for _, v := range r {
			mean += v
		}
		mean /= float64(len(r))
		for _, v := range r {
			vr += (v - mean) * (v - mean)
		}
		inv := 1 / math.Sqrt(vr/float64(len(r))+eps)
		for j, v := range r {
			y[j] = (v - mean) * inv * wv[j]
			if bv != nil {
				y[j] += bv[j]
			}
		}
	}
	return out
}

func (o *ops) RoPE(x model.Value, r *model.Rope) model.Value {
	xm := val(x)
	if r.HeadDim <= 0 || xm.cols%r.HeadDim != 0 || r.Dims > r.HeadDim || len(r.Freqs)*2 != r.Dims {
		panic(fmt.Sprintf("reference: rope of %d/%d dims with %d frequencies on rows of %d", r.Dims, r.HeadDim, len(r.Freqs), xm.cols))
	}
	scale := r.Scale
	if scale == 0 {
		scale = 1
	}
	out := newMat(xm.rows, xm.cols)
	copy(out.d, xm.d)
	half := r.Dims / 2
	var pairs []uint8 // M-RoPE: which position component rotates each pair
	if r.Sections != nil {
		pairs = must(model.MRoPEPairs(r))
	}
	for i := range xm.rows {
		p := [3]int{o.rpos + i, o.rpos + i, o.rpos + i}
		if o.pos3 != nil {
			p = o.pos3[i]
		}
		pos := float64(p[0])
		freqs := r.Freqs
		if r.LongFreqs != nil && o.rpos+i >= r.LongFrom {
			freqs = r.LongFreqs
		}
		row := out.row(i)
		for h := 0; h < xm.cols; h += r.HeadDim {
			for j, f := range freqs {
				if pairs != nil {
					pos = float64(p[pairs[j]])
				}
				sin, cos := math.Sincos(pos * f)
				sin, cos = sin*scale, cos*scale
				a, b := row[h+j], row[h+j+half]
				row[h+j] = a*cos - b*sin
				row[h+j+half] = b*cos + a*sin
			}
		}
	}
	return out
}

func (o *ops) Attention(layer int, q, k, v model.Value, a *model.Attention) model.Value {
	qm, km, vm := val(q), val(k), val(v)
	d := a.HeadDim
	if qm.cols != a.Heads*d || km.cols != a.KVHeads*d || vm.cols != a.KVHeads*d || a.Heads%a.KVHeads != 0 {
		panic(fmt.Sprintf("reference: attention of %d/%d heads of %d on q %d, k %d, v %d", a.Heads, a.KVHeads, d, qm.cols, km.cols, vm.cols))
	}
	s := o.s
	for i := range km.rows {
		s.keys[layer] = append(s.keys[layer], append([]float64(nil), km.row(i)...))
		s.values[layer] = append(s.values[layer], append([]float64(nil), vm.row(i)...))
	}
	group := a.Heads / a.KVHeads
	var sinks []float64
	if a.Sinks != nil {
		sinks = must(o.s.r.w.vector(a.Sinks))
	}
	out := newMat(qm.rows, qm.cols)
	for i := range qm.rows {
		pos := o.pos + i
		first := 0 // oldest visible key
		if a.Bidirectional && a.Radius > 0 {
			first, pos = max(0, pos-a.Radius), min(len(s.keys[layer])-1, pos+a.Radius)
		} else if a.Bidirectional {
			pos = len(s.keys[layer]) - 1 // every key of the sequence
		} else if a.Window > 0 {
			first = max(0, pos-a.Window+1)
		}
		if o.spans != nil && !a.Bidirectional {
			first, pos = o.imageRange(i, first, pos)
		}
		for hd := 0; hd < a.Heads; hd++ {
			kv := hd / group // query heads share key/value heads in consecutive groups
			qh := qm.row(i)[hd*d : (hd+1)*d]
			scores := make([]float64, pos+1-first)
			for j := first; j <= pos; j++ {
				sc := dot(qh, s.keys[layer][j][kv*d:(kv+1)*d]) * a.Scale
				if a.Softcap > 0 {
					sc = a.Softcap * math.Tanh(sc/a.Softcap)
				}
				scores[j-first] = sc
			}
			if sinks != nil {
				// The sink joins the softmax and is dropped: it has no value row.
				scores = append(scores, sinks[hd])
			}
			softmax(scores)
			oh := out.row(i)[hd*d : (hd+1)*d]
			for j := first; j <= pos; j++ {
				vj := s.values[layer][j][kv*d : (kv+1)*d]
				for c := range oh {
					oh[c] += scores[j-first] * vj[c]
				}
			}
		}
	}
	return out
}

func (o *ops) GLU(gate, up model.Value, act model.Activation) model.Value {
	g, u := val(gate), val(up)
	same(g, u)
	out := newMat(g.rows, g.cols)
	for i, x := range g.d {
		var a float64
		switch act {
		case model.SiLU:
			a = x / (1 + math.Exp(-x))
		case model.GELUTanh:
			a = 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		default:
			panic(fmt.Sprintf("reference: activation %d", act))
		}
		out.d[i] = a * u.d[i]
	}
	return out
}

func same(a, b *mat) {
	if a.rows != b.rows || a.cols != b.cols {
		panic(fmt.Sprintf("reference: operands (%d, %d) and (%d, %d)", a.rows, a.cols, b.rows, b.cols))
	}
}

func (o *ops) Add(x, y model.Value) model.Value {
	a, b := val(x), val(y)
	same(a, b)
	out := newMat(a.rows, a.cols)
	for i := range a.d {
		out.d[i] = a.d[i] + b.d[i]
	}
	return out
}

func (o *ops) Mul(x, y model.Value) model.Value {
	a, b := val(x), val(y)
	same(a, b)
	out := newMat(a.rows, a.cols)
	for i := range a.d {
		out.d[i] = a.d[i] * b.d[i]
	}
	return out
}

func (o *ops) Scale(x model.Value, s float64) model.Value {
	a := val(x)
	out := newMat(a.rows, a.cols)
	for i, v := range a.d {
		out.d[i] = v * s
	}
	return out
}

func (o *ops) Softcap(x model.Value, c float64) model.Value {
	a := val(x)
	out := newMat(a.rows, a.cols)
	for i, v := range a.d {
		out.d[i] = c * math.Tanh(v/c)
	}
	return out
}
