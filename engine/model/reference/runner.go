package reference

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// ErrClosed is returned by a closed sequence.
var ErrClosed = errors.New("sequence closed")

// Runner runs one model. It holds only read-only state, so any number of
// sequences may run concurrently.
type Runner struct {
	m   *model.Model
	cfg *model.Config
	def model.Definition
	w   weights // decoded weights, filled on first use
}

// NewRunner returns the reference runner of an opened model.
func NewRunner(m *model.Model) model.Runner {
	return &Runner{m: m, cfg: m.Config, def: m.Def}
}

// Backend names the executor.
func (r *Runner) Backend() string { return "reference/float64" }

// Close releases nothing: the model belongs to the caller.
func (r *Runner) Close() error { return nil }

// NewSequence starts an empty sequence of at most maxLen tokens.
func (r *Runner) NewSequence(maxLen int) (model.Sequence, error) {
	if maxLen <= 0 || maxLen > r.cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("new sequence: length %d outside 1..%d", maxLen, r.cfg.MaxPositionEmbeddings)
	}
	s := &sequence{r: r, maxLen: maxLen}
	s.keys = make([][][]float64, r.def.Layers())
	s.values = make([][][]float64, r.def.Layers())
	return s, nil
}

// sequence is one token sequence and its cache.
type sequence struct {
	r      *Runner
	maxLen int
	closed bool
	keys   [][][]float64 // (layers, pos, kvHeads*headDim), after RoPE
	values [][][]float64 // (layers, pos, kvHeads*headDim)
	logits []float32     // (vocab) returned by the last Forward

	// M-RoPE (model.MRoPE): the next text token's rotary position is
	// Len()+delta; marks are the deltas images set, from a cache index on.
	delta int
	marks [][2]int // (cache index, delta)
}

func (s *sequence) Len() int { return len(s.keys[0]) }

func (s *sequence) Close() error {
	s.closed = true
	s.keys, s.values, s.logits = nil, nil, nil
	return nil
}

func (s *sequence) Truncate(n int) error {
	if s.closed {
		return ErrClosed
	}
	if n < 0 || n > s.Len() {
		return fmt.Errorf("truncate to %d: sequence has %d tokens", n, s.Len())
	}
	for l := range s.keys {
		s.keys[l], s.values[l] = s.keys[l][:n], s.values[l][:n]
	}
	for len(s.marks) > 0 && s.marks[len(s.marks)-1][0] > n {
		s.marks = s.marks[:len(s.marks)-1]
	}
	s.delta = 0
	if len(s.marks) > 0 {
		s.delta = s.marks[len(s.marks)-1][1]
	}
	return nil
}

func (s *sequence) Forward(ctx context.Context, tokens []int32) ([]float32, error) {
	var last *mat
	err := s.run(ctx, tokens, func(h *mat) { last = h })
	if err != nil {
		return nil, err
	}
	var logits *mat
	err = s.do(func(o *ops) { logits = val(s.r.def.Logits(o, last)) })
	if err != nil {
		return nil, err
	}
	s.logits = s.logits[:0]
	for _, v := range logits.d {
		s.logits = append(s.logits, float32(v))
	}
	return s.logits, nil
}

func (s *sequence) Hidden(ctx context.Context, tokens []int32) ([]float32, error) {
	out := make([]float32, 0, len(tokens)*s.r.cfg.HiddenSize)
	err := s.run(ctx, tokens, func(h *mat) {
		for _, v := range h.d {
			out = append(out, float32(v))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// run checks the tokens, then appends them one by one, handing each one's
// final-normed hidden state to emit. On error the sequence is left as it was.
func (s *sequence) run(ctx context.Context, tokens []int32, emit func(*mat)) error {
	if s.closed {
		return ErrClosed
	}
	if len(tokens) == 0 {
		return errors.New("forward: no tokens")
	}
	if s.Len()+len(tokens) > s.maxLen {
		return fmt.Errorf("forward: %d tokens after %d exceed the sequence length %d", len(tokens), s.Len(), s.maxLen)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= s.r.cfg.VocabSize {
			return fmt.Errorf("forward: token %d outside the vocabulary of %d", t, s.r.cfg.VocabSize)
		}
	}
	start := s.Len()
	for _, t := range tokens {
		if err := ctx.Err(); err != nil {
			_ = s.Truncate(start)
			return err
		}
		h, err := s.step(t)
		if err != nil {
			_ = s.Truncate(start)
			return err
		}
		emit(h)
	}
	return nil
}

// step appends one token at position Len() and returns its final-normed
// hidden state (1, hidden).
func (s *sequence) step(token int32) (*mat, error) {
	var h *mat
	err := s.do(func(o *ops) {
		o.tokens = []int32{token}
		d := s.r.def
		x := d.Embed(o)
		for l := range d.Layers() {
			x = d.Layer(o, l, x)
		}
		h = val(d.Norm(o, x))
	})
	return h, err
}

// do runs f with the operations at the sequence's position, turning the
// errors operations panic with back into an error.
func (s *sequence) do(f func(o *ops)) (err error) {
	defer func() {
		switch e := recover().(type) {
		case nil:
		case stepError:
			err = e.err
		default:
			err = fmt.Errorf("reference: %v", e)
		}
	}()
	f(&ops{s: s, pos: s.Len(), rpos: s.Len() + s.delta})
	return nil
}

// mrope reports whether the model positions its tokens with M-RoPE.
func (r *Runner) mrope() bool { return model.UsesMRoPE(r.def) }
