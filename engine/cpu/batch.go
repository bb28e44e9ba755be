package cpu

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// batch is the model.Ops of one step over several sequences: the rows of
// every Value are the tokens of segs[0], then those of segs[1], and so on.
// Row-wise operations (linear layers, norms, activations) run once over all
// rows on the lead sequence's buffers and kernels, so each weight matrix is
// read once per step; RoPE and attention, which depend on a row's position
// and cache, run per segment on its own sequence's state.
type batch struct {
	*sequence       // the lead: arena, residual stream, kern.Exec
	segs      []seg // in row order
	last      []int // row of each segment's last token
	logits    [][]float32
	attn      []kern.AttnSeq // attendAll's segments, reused across layers
}

// seg is one sequence's tokens in a step.
type seg struct {
	s     *sequence
	first int // first row
	n     int // rows
}

// ForwardBatch implements model.Batcher: tokens[i] go to seqs[i], all through
// one forward pass.
func (r *Runner) ForwardBatch(ctx context.Context, seqs []model.Sequence, tokens [][]int32) ([][]float32, error) {
	if len(seqs) == 0 || len(seqs) != len(tokens) {
		return nil, fmt.Errorf("cpu: forward batch: %d sequences, %d token lists", len(seqs), len(tokens))
	}
	b := &batch{}
	total, seen := 0, map[*sequence]bool{}
	for i, q := range seqs {
		s, ok := q.(*sequence)
		if !ok || s.r != r {
			return nil, errors.New("cpu: forward batch: a sequence of another runner")
		}
		if seen[s] {
			return nil, errors.New("cpu: forward batch: a sequence appears twice")
		}
		seen[s] = true
		if err := s.check(tokens[i]); err != nil {
			return nil, err
		}
		b.segs = append(b.segs, seg{s: s, first: total, n: len(tokens[i])})
		total += len(tokens[i])
		b.last = append(b.last, total-1)
	}
	if len(seqs) == 1 {
		out, err := seqs[0].Forward(ctx, tokens[0])
		if err != nil {
			return nil, err
		}
		return [][]float32{out}, nil
	}
	b.sequence = b.segs[0].s
	all := make([]int32, 0, total)
	maxLen := 0
	for i := range b.segs {
		all = append(all, tokens[i]...)
		maxLen = max(maxLen, b.segs[i].s.maxLen)
	}
	c := r.cfg
	// The lead computes attention for every segment: its scratch must cover
	// the longest of them. Reserving is a no-op once it has room.
	b.e.ReserveAttention(kern.Attn{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim}, maxLen)

	for i, g := range b.segs {
		if err := g.s.grow(ctx, g.s.pos+g.n); err != nil {
			for _, h := range b.segs[:i] {
				h.s.shrink((h.s.pos + h.s.block - 1) / h.s.block)
			}
			return nil, err
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, ErrClosed
	}
	b.tokens = all
	defer func() { b.tokens = nil }()
	d := r.def
	err := b.run(func() { b.keep(d.Embed(b)) })
	for l := 0; err == nil && l < d.Layers(); l++ {
		if err = ctx.Err(); err == nil {
			err = b.run(func() { b.keep(d.Layer(b, l, b.x)) })
		}
	}
	if err == nil {
		err = b.run(func() { b.logits = b.head() })
	}
	if err != nil {
		return nil, err
	}
	for _, g := range b.segs {
		g.s.pos += g.n
	}
	return b.logits, nil
}

// head gathers each segment's last row and maps them to logits in one product.
func (b *batch) head() [][]float32 {
	x := b.ar.get(len(b.last), b.x.cols)
	for i, r := range b.last {
		copy(x.row(i), b.x.row(r))
	}
	d := b.r.def
	lg := val(d.Logits(b, d.Norm(b, x)))
	out := make([][]float32, len(b.last))
	for i := range out {
		out[i] = lg.row(i)
	}
	return out
}

// run is sequence.ops for the batch: the family's calls must reach the
// batch's RoPE and Attention, not the lead's.
func (b *batch) run(f func()) (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("cpu: %v", e)
		}
	}()
	b.ar.reset()
	f()
	return nil
}

func (b *batch) Embed(w *model.Linear) model.Value {
	l := b.r.lin(w)
	out := b.ar.get(len(b.tokens), l.w.Cols)
	for i, t := range b.tokens {
		l.w.Row(out.row(i), int(t))
	}
	return out
}

func (b *batch) RoPE(x model.Value, r *model.Rope) model.Value {
	xb := val(x)
	for _, g := range b.segs {
		g.s.RoPE(b.ar.view(xb, g.first, g.n), r)
	}
	return xb
}

func (b *batch) Attention(layer int, q, k, v model.Value, a *model.Attention) model.Value {
	qb, kb, vb := val(q), val(k), val(v)
	out := b.ar.get(qb.rows, qb.cols)
	if b.causal(a) {
		b.attendAll(layer, out, qb, kb, vb, a)
		return out
	}
	for _, g := range b.segs {
		// The segment's own ops write its cache and attend over it; the
		// lead's kern.Exec and arena serve them all.
		qg, kg, vg := b.ar.view(qb, g.first, g.n), b.ar.view(kb, g.first, g.n), b.ar.view(vb, g.first, g.n)
		var o *buf
		if g.s == b.sequence {
			o = val(g.s.Attention(layer, qg, kg, vg, a))
		} else {
			e, ar := g.s.e, g.s.ar
			g.s.e, g.s.ar = b.e, b.ar
			o = val(g.s.Attention(layer, qg, kg, vg, a))
			b.ar = g.s.ar
			g.s.e, g.s.ar = e, ar
		}
		copy(out.d[g.first*out.cols:], o.d)
	}
	return out
}

// causal reports whether every segment's attention is plain causal
// attention over its cache (no image spans, not bidirectional), which
// attendAll computes for all segments in one parallel step.
func (b *batch) causal(a *model.Attention) bool {
	if a.Bidirectional {
		return false
	}
	for _, g := range b.segs {
		if len(g.s.spans) > 0 {
			return false
		}
	}
	return true
}

// attendAll is the lone sequence's Attention for every segment, their
// (query, KV head) pairs handed to the workers as one task instead of one
// task per segment.
func (b *batch) attendAll(layer int, out, qb, kb, vb *buf, a *model.Attention) {
	kvDim := a.KVHeads * a.HeadDim
	if qb.cols != a.Heads*a.HeadDim || kb.cols != kvDim || vb.cols != kvDim || a.Heads%a.KVHeads != 0 ||
		qb.rows != kb.rows || kb.rows != vb.rows || kvDim != b.kvDim {
		panic(fmt.Sprintf("cpu: attention of %d/%d heads of %d on q %d, k %d, v %d (cache rows of %d)",
			a.Heads, a.KVHeads, a.HeadDim, qb.cols, kb.cols, vb.cols, b.kvDim))
	}
	b.attn = b.attn[:0]
	for _, g := range b.segs {
		s, lo, hi := g.s, g.first*kvDim, (g.first+g.n)*kvDim
		s.k[layer].Put(s.pos, kb.d[lo:hi])
		s.v[layer].Put(s.pos, vb.d[lo:hi])
		qlo, qhi := g.first*qb.cols, (g.first+g.n)*qb.cols
		b.attn = append(b.attn, kern.AttnSeq{Out: out.d[qlo:qhi], Q: qb.d[qlo:qhi], NQ: g.n, Pos0: s.pos,
			K: s.k[layer], V: s.v[layer]})
	}
	b.e.AttentionBatch(b.attn, b.kernAttn(a))
	clear(b.attn)
}
