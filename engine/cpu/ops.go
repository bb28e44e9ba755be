package cpu

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// buf is the CPU executor's model.Value: (rows, cols) float32, row-major,
// from the sequence's arena.
type buf struct {
	rows, cols int
	d          []float32 // (rows, cols)
	store      []float32 // backing storage, kept across steps
}

func (b *buf) row(i int) []float32 { return b.d[i*b.cols : (i+1)*b.cols] }

// arena hands out the buffers of one layer. The sequence of operations of a
// layer is the same from step to step, so after the first steps every buffer
// already has room and decoding allocates nothing.
type arena struct {
	bufs []*buf
	next int
}

func (a *arena) reset() { a.next = 0 }

func (a *arena) get(rows, cols int) *buf {
	if a.next == len(a.bufs) {
		a.bufs = append(a.bufs, &buf{})
	}
	b := a.bufs[a.next]
	a.next++
	if n := rows * cols; cap(b.store) < n {
		b.store = make([]float32, n)
	}
	b.rows, b.cols, b.d = rows, cols, b.store[:rows*cols]
	return b
}

// view is a buffer aliasing rows of another one's storage.
func (a *arena) view(src *buf, first, rows int) *buf {
	b := a.get(0, 0)
	b.rows, b.cols, b.d = rows, src.cols, src.d[first*src.cols:(first+rows)*src.cols]
	return b
}

// val asserts that v is one of ours: anything else is a bug in a family.
func val(v model.Value) *buf {
	b, ok := v.(*buf)
	if !ok {
		panic(fmt.Sprintf("cpu: value of type %T", v))
	}
	return b
}

func same(a, b *buf) {
	if a.rows != b.rows || a.cols != b.cols {
		panic(fmt.Sprintf("cpu: operands (%d, %d) and (%d, %d)", a.rows, a.cols, b.rows, b.cols))
	}
}

// The sequence is the model.Ops of its current step: tokens at positions
// s.pos.., buffers from s.ar.

func (s *sequence) Embed(w *model.Linear) model.Value {
	l := s.r.lin(w)
	out := s.ar.get(len(s.tokens), l.w.Cols)
	for i, t := range s.tokens {
		l.w.Row(out.row(i), int(t))
	}
	return out
}

func (s *sequence) Linear(x model.Value, w *model.Linear) model.Value {
	xb, l := val(x), s.r.lin(w)
	s.checkIn(xb, l, w)
	y := s.ar.get(xb.rows, l.w.Rows)
	s.linear(y.d, l, xb.d, xb.rows)
	return y
}

func (s *sequence) checkIn(x *buf, l *linear, w *model.Linear) {
	if x.cols != l.w.Cols {
		panic(fmt.Sprintf("cpu: %s: input of %d, want %d", w.Weight.Name, x.cols, l.w.Cols))
	}
}

func (s *sequence) Linear2(x model.Value, a, b *model.Linear) (model.Value, model.Value) {
	xb := val(x)
	la, lb := s.r.lin(a), s.r.lin(b)
	s.checkIn(xb, la, a)
	s.checkIn(xb, lb, b)
	ya, yb := s.ar.get(xb.rows, la.w.Rows), s.ar.get(xb.rows, lb.w.Rows)
	s.linear3(xb.d, xb.rows, lin{ya.d, la}, lin{yb.d, lb})
	return ya, yb
}

func (s *sequence) Linear3(x model.Value, a, b, c *model.Linear) (model.Value, model.Value, model.Value) {
	xb := val(x)
	la, lb, lc := s.r.lin(a), s.r.lin(b), s.r.lin(c)
	s.checkIn(xb, la, a)
	s.checkIn(xb, lb, b)
	s.checkIn(xb, lc, c)
	ya, yb, yc := s.ar.get(xb.rows, la.w.Rows), s.ar.get(xb.rows, lb.w.Rows), s.ar.get(xb.rows, lc.w.Rows)
	s.linear3(xb.d, xb.rows, lin{ya.d, la}, lin{yb.d, lb}, lin{yc.d, lc})
	return ya, yb, yc
}

func (s *sequence) RMSNorm(x model.Value, w *model.Tensor, eps, offset float64) model.Value {
	xb := val(x)
	wv := s.r.vec(w, offset)
	if len(wv) == 0 || xb.cols%len(wv) != 0 {
		panic(fmt.Sprintf("cpu: %s: %d weights for rows of %d", w.Name, len(wv), xb.cols))
	}
	out := s.ar.get(xb.rows, xb.cols)
	s.e.RMSNorms(out.d, xb.d, wv, float32(eps))
	return out
}

func (s *sequence) LayerNorm(x model.Value, w, b *model.Tensor, eps float64) model.Value {
	xb := val(x)
	wv := s.r.vec(w, 0)
	var bv []float32
	if b != nil {
		bv = s.r.vec(b, 0)
	}
	if len(wv) != xb.cols || (bv != nil && len(bv) != xb.cols) {
		panic(fmt.Sprintf("cpu: %s: %d weights for rows of %d", w.Name, len(wv), xb.cols))
	}
	out := s.ar.get(xb.rows, xb.cols)
	for i := range xb.rows {
		r, y := xb.row(i), out.row(i)
		var mean, vr float64
		for _, v := range r {
			mean += float64(v)
		}
		mean /= float64(len(r))
		for _, v := range r {
			vr += (float64(v) - mean) * (float64(v) - mean)
		}
		inv := 1 / math.Sqrt(vr/float64(len(r))+eps)
		for j, v := range r {
			y[j] = float32((float64(v)-mean)*inv) * wv[j]
			if bv != nil {
				y[j] += bv[j]
			}
		}
	}
	return out
}

func (s *sequence) RoPE(x model.Value, r *model.Rope) model.Value {
	xb := val(x)
	if r.HeadDim <= 0 || xb.cols%r.HeadDim != 0 || r.Dims > r.HeadDim || len(r.Freqs)*2 != r.Dims {
		panic(fmt.Sprintf("cpu: rope of %d/%d dims with %d frequencies on rows of %d", r.Dims, r.HeadDim, len(r.Freqs), xb.cols))
	}
	t := s.ropeTables(r)
	if r.Sections != nil && len(t.pairs) != r.Dims/2 {
		panic(fmt.Sprintf("cpu: rope of %d dims with mrope_section %v", r.Dims, r.Sections))
	}
	heads := xb.cols / r.HeadDim
	plain := r.Dims == r.HeadDim && (r.Scale == 0 || r.Scale == 1)
	for i := range xb.rows {
		pos := s.rowPos(i)
		if len(s.pos3) > 0 { // M-RoPE: an image's rows rotate each section by its own component
			if p := s.pos3[i]; r.Sections != nil && (p[0] != p[1] || p[1] != p[2]) {
				mropeHeads(xb.row(i), t.short, r, t.pairs, p)
				continue
			}
			pos = s.pos3[i][0]
		}
		tab := t.short
		if t.long != nil && pos >= r.LongFrom {
			tab = t.long
		}
		if plain {
			tab.Apply(xb.row(i), heads, pos)
		} else {
			ropeHeads(xb.row(i), tab, r, pos)
		}
	}
	return xb
}

// ropeHeads rotates the first r.Dims features of each head of v, with cos and
// sin scaled by r.Scale: partial rotary (Phi-3) and longrope's attention factor.
func ropeHeads(v []float32, tab *kern.Rope, r *model.Rope, pos int) {
	h := tab.Half
	scale := float32(1)
	if r.Scale != 0 {
		scale = float32(r.Scale)
	}
	cs, sn := tab.Cos[pos*h:(pos+1)*h], tab.Sin[pos*h:(pos+1)*h]
	for k := 0; k+r.HeadDim <= len(v); k += r.HeadDim {
		a, b := v[k:k+h], v[k+h:k+2*h]
		for i := range a {
			c, s := cs[i]*scale, sn[i]*scale
			x0, x1 := a[i], b[i]
			a[i] = x0*c - x1*s
			b[i] = x1*c + x0*s
		}
	}
}

func (s *sequence) Attention(layer int, q, k, v model.Value, a *model.Attention) model.Value {
	qb, kb, vb := val(q), val(k), val(v)
	kvDim := a.KVHeads * a.HeadDim
	if qb.cols != a.Heads*a.HeadDim || kb.cols != kvDim || vb.cols != kvDim || a.Heads%a.KVHeads != 0 ||
		qb.rows != kb.rows || kb.rows != vb.rows || kvDim != s.kvDim {
		panic(fmt.Sprintf("cpu: attention of %d/%d heads of %d on q %d, k %d, v %d (cache rows of %d)",
			a.Heads, a.KVHeads, a.HeadDim, qb.cols, kb.cols, vb.cols, s.kvDim))
	}
	s.k[layer].Put(s.pos, kb.d[:kb.rows*kvDim])
	s.v[layer].Put(s.pos, vb.d[:vb.rows*kvDim])
	out := s.ar.get(qb.rows, qb.cols)
	if len(s.spans) > 0 && !a.Bidirectional {
		s.imageAttention(out, qb, layer, a)
		return out
	}
	if a.Bidirectional {
		s.fullAttention(out, qb, layer, a)
		return out
	}
	s.e.Attention(out.d, qb.d, qb.rows, s.pos, s.k[layer], s.v[layer], s.kernAttn(a))
	return out
}

// kernAttn is a as the kernels take it, its sinks bound.
func (s *sequence) kernAttn(a *model.Attention) kern.Attn {
	ka := kern.Attn{Heads: a.Heads, KVHeads: a.KVHeads, HeadDim: a.HeadDim, Scale: float32(a.Scale),
		Window: a.Window, Softcap: float32(a.Softcap)}
	if a.Sinks != nil {
		ka.Sinks = s.r.vec(a.Sinks, 0)
	}
	return ka
}

func (s *sequence) GLU(gate, up model.Value, act model.Activation) model.Value {
	g, u := val(gate), val(up)
	same(g, u)
	switch act {
	case model.SiLU:
		s.e.SiLUMul(g.d, u.d)
	case model.GELUTanh:
		for i, x := range g.d {
			g.d[i] = geluTanh(x) * u.d[i]
		}
	default:
		panic(fmt.Sprintf("cpu: activation %d", act))
	}
	return g
}

// geluTanh is gelu_pytorch_tanh, computed in float64.
func geluTanh(x float32) float32 {
	v := float64(x)
	return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
}

func (s *sequence) Add(x, y model.Value) model.Value {
	a, b := val(x), val(y)
	same(a, b)
	kern.Add(a.d, b.d)
	return a
}

func (s *sequence) Mul(x, y model.Value) model.Value {
	a, b := val(x), val(y)
	same(a, b)
	for i := range a.d {
		a.d[i] *= b.d[i]
	}
	return a
}

func (s *sequence) Scale(x model.Value, f float64) model.Value {
	a := val(x)
	for i := range a.d {
		a.d[i] = float32(float64(a.d[i]) * f)
	}
	return a
}

func (s *sequence) Softcap(x model.Value, c float64) model.Value {
	a := val(x)
	for i, v := range a.d {
		a.d[i] = float32(c * math.Tanh(float64(v)/c))
	}
	return a
}

// linear computes y = x·Wᵀ (+ bias) for n tokens.
func (s *sequence) linear(y []float32, l *linear, x []float32, n int) {
	rows := l.w.Rows
	s.e.MatMul(y[:n*rows], l.w, x[:n*l.w.Cols], n)
	if l.bias != nil {
		for i := 0; i < n; i++ {
			kern.Add(y[i*rows:(i+1)*rows], l.bias)
		}
	}
}

// lin is one output of linear3.
type lin struct {
	y []float32
	l *linear
}

// linear3 computes several layers with the same input x. A decode step does
// them in one parallel step (q, k and v; gate and up), a batched one with x
// prepared once (kern.Exec.MatMuls); prefill, whose products are large, one
// after the other.
func (s *sequence) linear3(x []float32, n int, ls ...lin) {
	var ps [3]kern.Product
	for i, o := range ls {
		ps[i] = kern.Product{Y: o.y[:n*o.l.w.Rows], M: o.l.w}
	}
	s.e.MatMuls(x[:n*ls[0].l.w.Cols], n, ps[:len(ls)]...)
	for _, o := range ls {
		for i := 0; o.l.bias != nil && i < n; i++ {
			kern.Add(o.y[i*o.l.w.Rows:(i+1)*o.l.w.Rows], o.l.bias)
		}
	}
}

// grow returns buf with length n, reusing its storage when it has room.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}
