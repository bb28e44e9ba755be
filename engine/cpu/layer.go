package cpu

import "github.com/mlx-manager/mlx-manager/engine/cpu/kern"

// layer runs transformer block l on the n tokens in s.act.x, at positions
// s.pos.. (HF's LlamaDecoderLayer: pre-norm attention, then pre-norm SwiGLU
// MLP, each added to the residual stream).
func (s *sequence) layer(l, n int) {
	r, a, L := s.r, &s.act, &s.r.layers[l]
	c := r.cfg
	h, hd := c.HiddenSize, c.HeadDim
	qDim, kvDim := c.NumAttentionHeads*hd, c.NumKeyValueHeads*hd

	s.norm(a.xn, a.x, L.attnNorm, n)
	s.linear3(a.xn, n, lin{a.q, &L.q}, lin{a.k, &L.k}, lin{a.v, &L.v})
	for i := 0; i < n; i++ {
		q, k := a.q[i*qDim:(i+1)*qDim], a.k[i*kvDim:(i+1)*kvDim]
		if L.qNorm != nil {
			headNorm(q, L.qNorm, hd, r.eps)
		}
		if L.kNorm != nil {
			headNorm(k, L.kNorm, hd, r.eps)
		}
		pos := s.pos + i
		s.rope.Apply(q, c.NumAttentionHeads, pos)
		s.rope.Apply(k, c.NumKeyValueHeads, pos)
		s.k[l].Put(pos*kvDim, k)
		s.v[l].Put(pos*kvDim, a.v[i*kvDim:(i+1)*kvDim])
	}
	s.e.Attention(a.att, a.q, n, s.pos, s.k[l], s.v[l], r.attn)
	s.linear(a.proj, &L.o, a.att, n)
	kern.Add(a.x[:n*h], a.proj[:n*h])

	s.norm(a.xn, a.x, L.mlpNorm, n)
	inter := c.IntermediateSize
	s.linear3(a.xn, n, lin{a.gate, &L.gate}, lin{a.up, &L.up})
	kern.SiLUMul(a.gate[:n*inter], a.up[:n*inter])
	s.linear(a.proj, &L.down, a.gate, n)
	kern.Add(a.x[:n*h], a.proj[:n*h])
}

// norm writes RMSNorm(x)·w of each of the n tokens into out.
func (s *sequence) norm(out, x, w []float32, n int) {
	h := len(w)
	for i := 0; i < n; i++ {
		kern.RMSNorm(out[i*h:(i+1)*h], x[i*h:(i+1)*h], w, s.r.eps)
	}
}

// headNorm applies Qwen3's per-head RMSNorm to every head of v in place.
func headNorm(v, w []float32, hd int, eps float32) {
	for j := 0; j+hd <= len(v); j += hd {
		kern.RMSNorm(v[j:j+hd], v[j:j+hd], w, eps)
	}
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
// them in one parallel step (q, k and v; gate and up); prefill, whose
// products are large, one after the other.
func (s *sequence) linear3(x []float32, n int, ls ...lin) {
	if n > 1 {
		for _, o := range ls {
			s.linear(o.y, o.l, x, n)
		}
		return
	}
	var ps [3]kern.Product
	for i, o := range ls {
		ps[i] = kern.Product{Y: o.y, M: o.l.w}
	}
	s.e.MatVecs(x, ps[:len(ls)]...)
	for _, o := range ls {
		if o.l.bias != nil {
			kern.Add(o.y[:o.l.w.Rows], o.l.bias)
		}
	}
}
