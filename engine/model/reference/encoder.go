package reference

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func (o *ops) Lookup(w *model.Linear, by model.Index, offset int) model.Value {
	rows, in := w.Dims()
	out := newMat(len(o.tokens), in)
	buf := make([]float32, in)
	for i, t := range o.tokens {
		r := offset
		switch by {
		case model.ByToken:
			r += int(t)
		case model.ByPosition:
			r += o.pos + i
		case model.ByType:
			if o.types != nil {
				r += int(o.types[i])
			}
		default:
			panic(fmt.Sprintf("reference: lookup by %d", by))
		}
		if r < 0 || r >= rows {
			panic(fmt.Sprintf("reference: %s: row %d of %d", w.Weight.Name, r, rows))
		}
		must(0, w.Row(r, buf))
		for j, v := range buf {
			out.d[i*in+j] = float64(v)
		}
	}
	return out
}

func (o *ops) Act(x model.Value, act model.Activation) model.Value {
	a := val(x)
	out := newMat(a.rows, a.cols)
	for i, v := range a.d {
		switch act {
		case model.GELU:
			out.d[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		case model.GELUTanh:
			out.d[i] = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		case model.Tanh:
			out.d[i] = math.Tanh(v)
		case model.SiLU:
			out.d[i] = v / (1 + math.Exp(-v))
		case model.QuickGELU:
			out.d[i] = v / (1 + math.Exp(-1.702*v))
		default:
			panic(fmt.Sprintf("reference: activation %d", act))
		}
	}
	return out
}

// Encode runs an encoder over all tokens at once from an empty sequence.
func (s *sequence) Encode(ctx context.Context, tokens, types []int32) ([]float32, error) {
	var out []float32
	err := s.encode(ctx, tokens, types, func(o *ops, h *mat) {
		for _, v := range h.d {
			out = append(out, float32(v))
		}
	})
	return out, err
}

// Classify runs an encoder and its classification head on the first token.
func (s *sequence) Classify(ctx context.Context, tokens, types []int32) ([]float32, error) {
	if _, ok := s.r.def.(model.EncoderDefinition); !ok {
		return nil, errors.New("reference: classify: the model is not an encoder")
	}
	var out []float32
	err := s.encode(ctx, tokens, types, func(o *ops, h *mat) {
		first := &mat{rows: 1, cols: h.cols, d: h.row(0)}
		if model.MeanPooled(s.r.def) {
			first = &mat{rows: 1, cols: h.cols, d: make([]float64, h.cols)}
			for i := range h.rows {
				for j, v := range h.row(i) {
					first.d[j] += v / float64(h.rows)
				}
			}
		}
		for _, v := range val(s.r.def.Logits(o, first)).d {
			out = append(out, float32(v))
		}
	})
	return out, err
}

func (s *sequence) encode(ctx context.Context, tokens, types []int32, emit func(*ops, *mat)) error {
	if s.closed {
		return ErrClosed
	}
	if len(tokens) == 0 || len(tokens) > s.maxLen || s.Len() != 0 {
		return fmt.Errorf("encode: %d tokens into a sequence of %d holding %d", len(tokens), s.maxLen, s.Len())
	}
	if types != nil && len(types) != len(tokens) {
		return fmt.Errorf("encode: %d token types for %d tokens", len(types), len(tokens))
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= s.r.cfg.VocabSize {
			return fmt.Errorf("encode: token %d outside the vocabulary of %d", t, s.r.cfg.VocabSize)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.do(func(o *ops) {
		o.tokens, o.types = tokens, types
		d := s.r.def
		x := d.Embed(o)
		for l := range d.Layers() {
			x = d.Layer(o, l, x)
		}
		emit(o, val(d.Norm(o, x)))
	})
	if err != nil {
		_ = s.Truncate(0)
	}
	return err
}

// EncodeBatch is Encode of each input in turn: the oracle has no batching.
func (s *sequence) EncodeBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error) {
	if types != nil && len(types) != len(tokens) {
		return nil, fmt.Errorf("encode batch: %d inputs, %d type lists", len(tokens), len(types))
	}
	out := make([][]float32, len(tokens))
	for i, t := range tokens {
		var ty []int32
		if types != nil {
			ty = types[i]
		}
		h, err := s.Encode(ctx, t, ty)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[i] = h
		if err := s.Truncate(0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ClassifyBatch is Classify of each input in turn.
func (s *sequence) ClassifyBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error) {
	if types != nil && len(types) != len(tokens) {
		return nil, fmt.Errorf("classify batch: %d inputs, %d type lists", len(tokens), len(types))
	}
	out := make([][]float32, len(tokens))
	for i, t := range tokens {
		var ty []int32
		if types != nil {
			ty = types[i]
		}
		l, err := s.Classify(ctx, t, ty)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[i] = l
		if err := s.Truncate(0); err != nil {
			return nil, err
		}
	}
	return out, nil
}
