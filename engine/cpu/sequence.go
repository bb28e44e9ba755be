package cpu

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// sequence is one token sequence: its KV cache and the activation buffers of
// one chunk, all allocated up front so decoding allocates nothing.
type sequence struct {
	r      *Runner
	e      *kern.Exec
	rope   *kern.Rope
	maxLen int
	pos    int // tokens in the cache
	chunk  int // tokens per step
	closed bool

	k, v []kern.KV // per layer: (maxLen, kvHeads*headDim), keys after RoPE
	act  acts
}

// acts are the activations of one chunk of tokens, row-major per token.
type acts struct {
	x      []float32 // (chunk, hidden) residual stream
	xn     []float32 // (chunk, hidden) normed input of a block
	q      []float32 // (chunk, heads*headDim)
	k, v   []float32 // (chunk, kvHeads*headDim)
	att    []float32 // (chunk, heads*headDim) attention output
	proj   []float32 // (chunk, hidden) o or down projection
	gate   []float32 // (chunk, intermediate)
	up     []float32 // (chunk, intermediate)
	logits []float32 // (vocab)
}

// NewSequence starts an empty sequence with a KV cache for maxLen tokens.
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
	s := &sequence{r: r, e: kern.NewExec(r.pool), rope: r.ropeFor(maxLen), maxLen: maxLen}
	s.chunk = min(r.opts.PrefillChunk, maxLen)
	kvDim := c.NumKeyValueHeads * c.HeadDim
	s.k, s.v = make([]kern.KV, c.NumHiddenLayers), make([]kern.KV, c.NumHiddenLayers)
	for l := range s.k {
		s.k[l] = kern.NewKV(maxLen*kvDim, r.opts.KVF16)
		s.v[l] = kern.NewKV(maxLen*kvDim, r.opts.KVF16)
	}
	n, qDim := s.chunk, c.NumAttentionHeads*c.HeadDim
	s.act = acts{
		x: make([]float32, n*c.HiddenSize), xn: make([]float32, n*c.HiddenSize),
		q: make([]float32, n*qDim), k: make([]float32, n*kvDim), v: make([]float32, n*kvDim),
		att: make([]float32, n*qDim), proj: make([]float32, n*c.HiddenSize),
		gate: make([]float32, n*c.IntermediateSize), up: make([]float32, n*c.IntermediateSize),
		logits: make([]float32, c.VocabSize),
	}
	s.e.ReserveAttention(r.attn, maxLen)
	return s, nil
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
	return nil
}

func (s *sequence) Close() error {
	s.closed = true
	s.k, s.v, s.act = nil, nil, acts{}
	return nil
}

// Forward appends tokens and returns the logits of the last one.
func (s *sequence) Forward(ctx context.Context, tokens []int32) ([]float32, error) {
	err := s.run(ctx, tokens, nil)
	if err != nil {
		return nil, err
	}
	r, a, h := s.r, &s.act, s.r.cfg.HiddenSize
	last := (len(tokens) - 1) % s.chunk
	kern.RMSNorm(a.xn[:h], a.x[last*h:(last+1)*h], r.norm, r.eps)
	s.e.MatVec(a.logits, r.lmHead, a.xn[:h])
	if r.lmBias != nil {
		kern.Add(a.logits, r.lmBias)
	}
	return a.logits, nil
}

// Hidden appends tokens and returns every token's final-normed hidden state.
func (s *sequence) Hidden(ctx context.Context, tokens []int32) ([]float32, error) {
	h := s.r.cfg.HiddenSize
	out := make([]float32, len(tokens)*h)
	err := s.run(ctx, tokens, func(first, n int) {
		for i := 0; i < n; i++ {
			kern.RMSNorm(out[(first+i)*h:(first+i+1)*h], s.act.x[i*h:(i+1)*h], s.r.norm, s.r.eps)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// run checks tokens and pushes them through the layers a chunk at a time;
// after each chunk emit (if set) sees its residual stream. On error the
// sequence is left as it was before the call.
func (s *sequence) run(ctx context.Context, tokens []int32, emit func(first, n int)) error {
	if err := s.check(tokens); err != nil {
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
			emit(c0, n)
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
	h := s.r.cfg.HiddenSize
	for i, t := range tokens {
		s.r.embed.Row(s.act.x[i*h:(i+1)*h], int(t))
	}
	for l := range s.r.layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.layer(l, len(tokens))
	}
	s.pos += len(tokens)
	return nil
}
