package engine

import (
	"context"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// cachedSeq is a finished request's sequence kept with its KV cache, so the next
// request that starts with the same tokens (the next turn of a chat, which resends
// the whole conversation) only computes what is new, as llama.cpp and Ollama do.
type cachedSeq struct {
	seq    model.Sequence
	window int
	tokens []int32 // what the KV cache holds, in order
}

// sequenceFor returns a sequence whose cache holds a prefix of prompt, and how
// many of prompt's tokens it already holds. It reuses the kept sequence when it
// shares a prefix with prompt; at least one token is always left to compute,
// since the logits of the last prompt token are needed.
func (l *loaded) sequenceFor(window int, prompt []int32) (model.Sequence, int, error) {
	l.cacheMu.Lock()
	c := l.cache
	l.cache = nil
	l.cacheMu.Unlock()
	if c != nil && c.window == window {
		n := commonPrefix(c.tokens, prompt)
		n = min(n, len(prompt)-1)
		if n > 0 {
			if err := c.seq.Truncate(n); err == nil {
				return c.seq, n, nil
			}
		}
	}
	if c != nil {
		c.seq.Close()
	}
	seq, err := l.runner.NewSequence(window)
	if err != nil {
		return nil, 0, fmt.Errorf("new sequence: %w", err)
	}
	return seq, 0, nil
}

// keep stores seq for the next request, replacing (and closing) any kept one.
// tokens is what seq's cache holds; a failed or cancelled request passes ok false
// and its sequence is closed, since its cache may be partial.
func (l *loaded) keep(seq model.Sequence, window int, tokens []int32, ok bool) {
	if !ok || len(tokens) != seq.Len() {
		seq.Close()
		return
	}
	l.cacheMu.Lock()
	old := l.cache
	l.cache = &cachedSeq{seq: seq, window: window, tokens: tokens}
	l.cacheMu.Unlock()
	if old != nil {
		old.seq.Close()
	}
}

// dropCache closes the kept sequence (before the runner closes).
func (l *loaded) dropCache() {
	l.cacheMu.Lock()
	c := l.cache
	l.cache = nil
	l.cacheMu.Unlock()
	if c != nil {
		c.seq.Close()
	}
}

func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// prefill runs the part of prompt the sequence does not hold yet.
func prefill(ctx context.Context, seq model.Sequence, prompt []int32, have int) ([]float32, error) {
	logits, err := seq.Forward(ctx, prompt[have:])
	if err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	return logits, nil
}
