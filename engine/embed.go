package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Embed returns one L2-normalised vector per input: the mean over tokens of the
// model's final-normed hidden states, truncated to Dimensions when asked (then
// normalised again, as OpenAI's text-embedding-3 models do).
func (e *Engine) Embed(ctx context.Context, req EmbedRequest) (*EmbedResult, error) {
	if len(req.Inputs) == 0 {
		return nil, &InvalidError{Param: "input", Err: errors.New("at least one input is required")}
	}
	lease, l, err := e.acquire(ctx, req.Model, nil)
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	hidden := l.m.Config.HiddenSize
	if req.Dimensions < 0 || req.Dimensions > hidden {
		return nil, &InvalidError{Param: "dimensions", Err: fmt.Errorf("must be between 1 and %d for this model", hidden)}
	}
	res := &EmbedResult{Model: l.id, Vectors: make([][]float32, len(req.Inputs))}
	window := l.contextFor(GenOptions{})
	for i, text := range req.Inputs {
		ids := l.tok.Encode(text, true)
		if len(ids) == 0 {
			return nil, &InvalidError{Param: fmt.Sprintf("input[%d]", i), Err: errors.New("is empty")}
		}
		if len(ids) > window {
			return nil, &ContextLengthError{PromptTokens: len(ids), ContextLength: window}
		}
		v, err := l.embedOne(ctx, ids, hidden)
		if err != nil {
			return nil, err
		}
		if req.Dimensions > 0 {
			v = v[:req.Dimensions]
		}
		normalize(v)
		res.Vectors[i] = v
		res.PromptTokens += len(ids)
	}
	return res, nil
}

func (l *loaded) embedOne(ctx context.Context, ids []int32, hidden int) ([]float32, error) {
	seq, err := l.runner.NewSequence(len(ids))
	if err != nil {
		return nil, fmt.Errorf("new sequence: %w", err)
	}
	defer seq.Close()
	h, err := seq.Hidden(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if len(h) != len(ids)*hidden {
		return nil, fmt.Errorf("embed: executor returned %d values for %d tokens of %d", len(h), len(ids), hidden)
	}
	sum := make([]float64, hidden)
	for t := range ids {
		for k, x := range h[t*hidden : (t+1)*hidden] {
			sum[k] += float64(x)
		}
	}
	v := make([]float32, hidden)
	for k := range v {
		v[k] = float32(sum[k] / float64(len(ids)))
	}
	return v, nil
}

func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
}
