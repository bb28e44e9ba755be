package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The sequence implements model.EncoderOps and model.Encoder: an encoder's
// input goes through the layers in one step, so that the bidirectional
// attention of each layer sees the keys of every token.

func (s *sequence) Lookup(w *model.Linear, by model.Index, offset int) model.Value {
	l := s.r.lin(w)
	out := s.ar.get(len(s.tokens), l.w.Cols)
	for i, t := range s.tokens {
		row := offset
		switch by {
		case model.ByToken:
			row += int(t)
		case model.ByPosition:
			row += s.pos + i
			if s.segs != nil {
				row -= s.pos + s.segStart(i)
			}
		case model.ByType:
			if s.types != nil {
				row += int(s.types[i])
			}
		default:
			panic(fmt.Sprintf("cpu: lookup by %d", by))
		}
		if row < 0 || row >= l.w.Rows {
			panic(fmt.Sprintf("cpu: %s: row %d of %d", w.Weight.Name, row, l.w.Rows))
		}
		l.w.Row(out.row(i), row)
	}
	return out
}

func (s *sequence) Act(x model.Value, act model.Activation) model.Value {
	a := val(x)
	switch act {
	case model.GELU:
		for i, v := range a.d {
			a.d[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
		}
	case model.GELUTanh:
		for i, v := range a.d {
			a.d[i] = geluTanh(v)
		}
	case model.Tanh:
		for i, v := range a.d {
			a.d[i] = float32(math.Tanh(float64(v)))
		}
	case model.SiLU:
		for i, v := range a.d {
			a.d[i] = float32(float64(v) / (1 + math.Exp(-float64(v))))
		}
	case model.QuickGELU:
		for i, v := range a.d {
			a.d[i] = float32(float64(v) / (1 + math.Exp(-1.702*float64(v))))
		}
	default:
		panic(fmt.Sprintf("cpu: activation %d", act))
	}
	return a
}

// fullAttention is the attention of encoders: every query row sees the keys
// of all rows of the sequence, already in the cache. The kernel's causal
// attention does exactly that for a single query placed at the last position.
//
// In a batch of inputs (s.segs), a row sees the keys of its own input only:
// the kernel's sliding window, as long as the input and ending at its last
// row, is exactly that range.
func (s *sequence) fullAttention(out, q *buf, layer int, a *model.Attention) {
	ka := kern.Attn{Heads: a.Heads, KVHeads: a.KVHeads, HeadDim: a.HeadDim, Scale: float32(a.Scale)}
	if a.Radius > 0 {
		s.localAttention(out, q, layer, a, ka)
		return
	}
	if s.segs == nil {
		last := s.pos + q.rows - 1
		for i := range q.rows {
			s.e.Attention(out.row(i), q.row(i), 1, last, s.k[layer], s.v[layer], ka)
		}
		return
	}
	for g, start := range s.segs {
		end := q.rows
		if g+1 < len(s.segs) {
			end = s.segs[g+1]
		}
		ka.Window = end - start
		for i := start; i < end; i++ {
			s.e.Attention(out.row(i), q.row(i), 1, s.pos+end-1, s.k[layer], s.v[layer], ka)
		}
	}
}

// localAttention is bidirectional attention limited to the keys within
// a.Radius positions of each query, inside the query's own input of a
// batch: each row attends to the window that ends at its last visible key.
func (s *sequence) localAttention(out, q *buf, layer int, a *model.Attention, ka kern.Attn) {
	for i := range q.rows {
		start, end := 0, q.rows // the input holding row i, as rows of this step
		if s.segs != nil {
			g := sort.SearchInts(s.segs, i+1) - 1
			start = s.segs[g]
			if g+1 < len(s.segs) {
				end = s.segs[g+1]
			}
		}
		first, last := max(start, i-a.Radius), min(end-1, i+a.Radius)
		ka.Window = last - first + 1
		s.e.Attention(out.row(i), q.row(i), 1, s.pos+last, s.k[layer], s.v[layer], ka)
	}
}

// rowPos is the position of row i in its sequence: in a batch of encoder
// inputs each numbers its positions from 0, so that rotary encoders (and
// absolute position embeddings) see every input as they would alone.
func (s *sequence) rowPos(i int) int {
	if s.segs != nil {
		return i - s.segStart(i) // an encoder step starts from an empty sequence
	}
	return s.pos + s.delta + i // delta: M-RoPE's, 0 for other models
}

// segStart is the first row of the batch input holding row i.
func (s *sequence) segStart(i int) int {
	g := sort.SearchInts(s.segs, i+1) - 1
	return s.segs[g]
}

// EncodeBatch encodes several inputs in one step, each on its own.
func (s *sequence) EncodeBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error) {
	var out [][]float32
	err := s.batch(ctx, tokens, types, func(segs []int, n int) {
		h := val(s.r.def.Norm(s, s.x)).d
		hidden := len(h) / n
		for i, start := range segs {
			out = append(out, append([]float32(nil), h[start*hidden:(start+len(tokens[i]))*hidden]...))
		}
	})
	return out, err
}

// ClassifyBatch runs the classification head on the first token of each
// input of one encoder step.
func (s *sequence) ClassifyBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error) {
	if _, ok := s.r.def.(model.EncoderDefinition); !ok {
		return nil, errors.New("cpu: classify: the model is not an encoder")
	}
	var out [][]float32
	err := s.batch(ctx, tokens, types, func(segs []int, n int) {
		d := s.r.def
		var pooled model.Value
		if model.MeanPooled(d) {
			pooled = s.meanRows(val(d.Norm(s, s.x)), segs, n)
		} else {
			first := s.ar.get(len(segs), s.x.cols)
			for i, start := range segs {
				copy(first.row(i), s.x.row(start))
			}
			pooled = d.Norm(s, first)
		}
		l := val(d.Logits(s, pooled))
		for i := range segs {
			out = append(out, append([]float32(nil), l.row(i)...))
		}
	})
	return out, err
}

// batch runs several inputs through the layers in one step (s.segs), then
// head on the residual stream.
func (s *sequence) batch(ctx context.Context, tokens, types [][]int32, head func(segs []int, n int)) error {
	if len(tokens) == 0 || (types != nil && len(types) != len(tokens)) {
		return fmt.Errorf("cpu: encode batch: %d inputs, %d type lists", len(tokens), len(types))
	}
	var all, allTypes []int32
	segs := make([]int, len(tokens))
	typed := false
	for i, t := range tokens {
		if len(t) == 0 {
			return fmt.Errorf("cpu: encode batch: input %d is empty", i)
		}
		segs[i] = len(all)
		all = append(all, t...)
		if types != nil && types[i] != nil {
			if len(types[i]) != len(t) {
				return fmt.Errorf("cpu: encode batch: input %d has %d token types for %d tokens", i, len(types[i]), len(t))
			}
			typed = true
		}
	}
	if typed {
		for i, t := range tokens {
			if types[i] != nil {
				allTypes = append(allTypes, types[i]...)
			} else {
				allTypes = append(allTypes, make([]int32, len(t))...)
			}
		}
	}
	s.segs = segs
	defer func() { s.segs = nil }()
	return s.encode(ctx, all, allTypes, func() { head(segs, len(all)) })
}

// Encode runs an encoder over tokens from an empty sequence in one step.
func (s *sequence) Encode(ctx context.Context, tokens, types []int32) ([]float32, error) {
	var out []float32
	err := s.encode(ctx, tokens, types, func() {
		h := val(s.r.def.Norm(s, s.x))
		out = append([]float32(nil), h.d...)
	})
	return out, err
}

// Classify runs an encoder like Encode and its classification head on the
// first token.
func (s *sequence) Classify(ctx context.Context, tokens, types []int32) ([]float32, error) {
	if _, ok := s.r.def.(model.EncoderDefinition); !ok {
		return nil, errors.New("cpu: classify: the model is not an encoder")
	}
	var out []float32
	err := s.encode(ctx, tokens, types, func() {
		d := s.r.def
		var pooled model.Value
		if model.MeanPooled(d) {
			pooled = s.meanRows(val(d.Norm(s, s.x)), []int{0}, len(tokens))
		} else {
			pooled = d.Norm(s, s.ar.view(s.x, 0, 1))
		}
		h := val(d.Logits(s, pooled))
		out = append([]float32(nil), h.d...)
	})
	return out, err
}

// meanRows is the mean of the rows of each input of h (n rows, the inputs
// starting at segs), in float64: (len(segs), cols).
func (s *sequence) meanRows(h *buf, segs []int, n int) *buf {
	out := s.ar.get(len(segs), h.cols)
	sum := make([]float64, h.cols)
	for g, start := range segs {
		end := n
		if g+1 < len(segs) {
			end = segs[g+1]
		}
		clear(sum)
		for i := start; i < end; i++ {
			for j, v := range h.row(i) {
				sum[j] += float64(v)
			}
		}
		for j, v := range sum {
			out.row(g)[j] = float32(v / float64(end-start))
		}
	}
	return out
}

func (s *sequence) encode(ctx context.Context, tokens, types []int32, head func()) error {
	if err := s.check(tokens); err != nil {
		return err
	}
	if s.pos != 0 {
		return fmt.Errorf("cpu: encode: the sequence already holds %d tokens", s.pos)
	}
	if types != nil && len(types) != len(tokens) {
		return fmt.Errorf("cpu: encode: %d token types for %d tokens", len(types), len(tokens))
	}
	if err := s.grow(ctx, len(tokens)); err != nil {
		return err
	}
	s.r.mu.RLock()
	defer s.r.mu.RUnlock()
	if s.r.closed {
		return ErrClosed
	}
	s.types = types
	defer func() { s.types = nil }()
	if err := s.step(ctx, tokens); err != nil {
		s.pos = 0
		return err
	}
	return s.ops(head)
}
