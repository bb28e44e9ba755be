package cpu

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// sequence is one token sequence: its KV cache and the buffers of one
// chunk of tokens, reused from step to step so decoding allocates nothing.
// During a step it is the model.Ops the family's forward pass runs on (ops.go).
type sequence struct {
	r      *Runner
	e      *kern.Exec
	maxLen int
	pos    int // tokens in the cache
	chunk  int // tokens per step
	kvDim  int
	closed bool

	// k and v are, per layer, views of the KV blocks held: (blocks·block,
	// kvDim), keys after RoPE. Block i of every layer lives in one
	// allocation, so growing by a block is one allocation.
	k, v    []kern.KV
	block   int          // positions per KV block
	blocks  int          // KV blocks held
	kvBytes atomic.Int64 // bytes of the blocks held; read by other goroutines
	tokens  []int32      // of the step running
	types   []int32      // token type ids of an encoder's step; nil: all 0
	segs    []int        // first row of each input of an encoder's batch; nil: one input
	x       *buf         // (chunk, hidden) residual stream, kept across layers
	ar      arena        // buffers of the operation running, reset per layer
	ropes   map[*model.Rope]*ropeTables
	// M-RoPE (model.MRoPE): the next text token's rotary position is
	// pos+delta, delta ≤ 0 once an image has gone by; marks record where
	// each image changed it, so Truncate can restore it. pos3 are the
	// rotary positions of the step's rows when it holds images; empty:
	// all three components are pos+delta+row.
	delta int
	marks []ropeMark
	pos3  [][3]int

	moe moeScratch // routing of the MoE block running (moe.go)

	spans []model.ImageSpan // images of the step running, At relative to its first token (vision.go)
	grid  [3]int            // patches (t, h, w) of the image a tower of dynamic size is running (visiongrid.go)
}

// ropeMark is the rope delta of the tokens from cache index at on.
type ropeMark struct{ at, delta int }

// NewSequence starts an empty sequence with room for maxLen tokens. Its KV
// cache takes memory a block at a time as tokens come (see Options.KVBlock).
func (r *Runner) NewSequence(maxLen int) (model.Sequence, error) {
	c := r.cfg
	if maxLen <= 0 || maxLen > c.MaxPositionEmbeddings {
		return nil, fmt.Errorf("cpu: new sequence: length %d outside 1..%d", maxLen, c.MaxPositionEmbeddings)
	}
	r.mu.RLock()
	closed := r.closed
	r.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	s := &sequence{r: r, e: kern.NewExec(r.pool), maxLen: maxLen, kvDim: r.kvDim,
		x: &buf{}, ropes: map[*model.Rope]*ropeTables{}}
	s.e.SetIntInput(!r.opts.FloatActivations)
	s.e.SetInt8Prefill(r.opts.Int8Prefill)
	s.e.SetBF16Prefill(r.opts.BF16Prefill && (kern.HasBF16Prefill() || r.opts.bf16Anywhere))
	s.chunk = min(r.opts.PrefillChunk, maxLen)
	s.block = min(r.opts.KVBlock, maxLen)
	layers := r.def.Layers()
	s.k, s.v = make([]kern.KV, layers), make([]kern.KV, layers)
	for l := range s.k {
		s.k[l] = kern.KV{Block: s.block, Dim: r.kvDim, Head: c.HeadDim}
		s.v[l] = kern.KV{Block: s.block, Dim: r.kvDim, Head: c.HeadDim}
	}
	s.x.store = make([]float32, s.chunk*c.HiddenSize)
	s.e.ReserveAttention(kern.Attn{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim}, maxLen)
	return s, nil
}

// ropeTables are rope's tables, looked up once per sequence.
func (s *sequence) ropeTables(rope *model.Rope) *ropeTables {
	t, ok := s.ropes[rope]
	if !ok {
		t = s.r.ropeFor(rope, s.maxLen)
		s.ropes[rope] = t
	}
	return t
}

func (s *sequence) Len() int { return s.pos }

func (s *sequence) Truncate(n int) error {
	if s.closed {
		return ErrClosed
	}
	if n < 0 || n > s.pos {
		return fmt.Errorf("cpu: truncate to %d: sequence has %d tokens", n, s.pos)
	}
	s.pos = n // later tokens overwrite the cache from here
	s.restoreDelta(n)
	s.shrink((n + s.block - 1) / s.block)
	return nil
}

func (s *sequence) Close() error {
	if s.closed {
		return nil
	}
	s.shrink(0)
	s.closed = true
	s.k, s.v, s.x, s.ar = nil, nil, nil, arena{}
	return nil
}

// Forward appends tokens and returns the logits of the last one.
func (s *sequence) Forward(ctx context.Context, tokens []int32) ([]float32, error) {
	if err := s.run(ctx, tokens, nil); err != nil {
		return nil, err
	}
	var logits *buf
	err := s.ops(func() {
		last := (len(tokens) - 1) % s.chunk
		d := s.r.def
		logits = val(d.Logits(s, d.Norm(s, s.ar.view(s.x, last, 1))))
	})
	if err != nil {
		return nil, err
	}
	return logits.d, nil
}

// Hidden appends tokens and returns every token's final-normed hidden state.
func (s *sequence) Hidden(ctx context.Context, tokens []int32) ([]float32, error) {
	var out []float32
	err := s.run(ctx, tokens, func(first, n int) error {
		return s.ops(func() {
			h := val(s.r.def.Norm(s, s.x))
			if out == nil {
				out = make([]float32, len(tokens)*h.cols)
			}
			copy(out[first*h.cols:], h.d)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// run checks tokens and pushes them through the layers a chunk at a time;
// after each chunk emit (if set) sees its residual stream. On error the
// sequence is left as it was before the call.
func (s *sequence) run(ctx context.Context, tokens []int32, emit func(first, n int) error) error {
	if err := s.check(tokens); err != nil {
		return err
	}
	if err := s.grow(ctx, s.pos+len(tokens)); err != nil {
		return err
	}
	s.r.mu.RLock()
	defer s.r.mu.RUnlock()
	if s.r.closed {
		return ErrClosed
	}
	start := s.pos
	for c0 := 0; c0 < len(tokens); c0 += s.chunk {
		n := min(s.chunk, len(tokens)-c0)
		if err := s.step(ctx, tokens[c0:c0+n]); err != nil {
			s.pos = start
			return err
		}
		if emit != nil {
			if err := emit(c0, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *sequence) check(tokens []int32) error {
	if s.closed {
		return ErrClosed
	}
	if len(tokens) == 0 {
		return errors.New("cpu: forward: no tokens")
	}
	if s.pos+len(tokens) > s.maxLen {
		return fmt.Errorf("cpu: forward: %d tokens after %d exceed the sequence length %d", len(tokens), s.pos, s.maxLen)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= s.r.cfg.VocabSize {
			return fmt.Errorf("cpu: forward: token %d outside the vocabulary of %d", t, s.r.cfg.VocabSize)
		}
	}
	return nil
}

// step runs one chunk of tokens through every layer, checking for
// cancellation between layers.
func (s *sequence) step(ctx context.Context, tokens []int32) error {
	s.tokens = tokens
	defer func() { s.tokens = nil }()
	d := s.r.def
	marks, err := s.stepPositions(len(tokens))
	defer func() { s.pos3 = s.pos3[:0] }()
	if err == nil {
		err = s.ops(func() { s.keep(d.Embed(s)) })
	}
	if err == nil && len(s.spans) > 0 {
		s.splice()
	}
	for l := 0; err == nil && l < d.Layers(); l++ {
		if err = ctx.Err(); err == nil {
			err = s.ops(func() { s.keep(d.Layer(s, l, s.x)) })
		}
	}
	if err != nil {
		return err
	}
	s.pos += len(tokens)
	s.marks = append(s.marks, marks...)
	if len(marks) > 0 {
		s.delta = marks[len(marks)-1].delta
	}
	return nil
}

// keep makes v the residual stream s.x, copying it unless it already is.
func (s *sequence) keep(v model.Value) {
	b := val(v)
	if b != s.x {
		if cap(s.x.store) < len(b.d) {
			s.x.store = make([]float32, len(b.d))
		}
		s.x.rows, s.x.cols, s.x.d = b.rows, b.cols, s.x.store[:len(b.d)]
		copy(s.x.d, b.d)
	}
}

// ops runs part of the family's forward pass with fresh buffers, turning the
// panic of a misused operation into an error.
func (s *sequence) ops(f func()) (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("cpu: %v", e)
		}
	}()
	s.ar.reset()
	f()
	return nil
}
