package engine

import (
	"context"
	"errors"
	"fmt"
)

// LogitsRequest asks for a model's raw next-token logits over a token
// sequence: the ids given, or Text encoded with the tokenizer (BOS included),
// never both.
type LogitsRequest struct {
	Model string
	IDs   []int32
	Text  string
	All   bool // every position's logits, not only the last one
}

// LogitsResult holds the ids the model read and, per position asked for, the
// logits over the vocabulary.
type LogitsResult struct {
	IDs    []int32
	Logits [][]float32 // (positions, vocab): the last position, or all with All
}

// Logits runs the model over the sequence and returns its logits, for people
// porting or debugging a model and for tests that compare executors with an
// independent implementation.
func (e *Engine) Logits(ctx context.Context, req LogitsRequest) (*LogitsResult, error) {
	if (len(req.IDs) > 0) == (req.Text != "") {
		return nil, &InvalidError{Param: "ids", Err: errors.New("give either token ids or a text, not both or neither")}
	}
	lease, l, err := e.acquire(ctx, req.Model, nil)
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	ids := req.IDs
	if req.Text != "" {
		ids = l.tok.Encode(req.Text, true)
		if len(ids) == 0 {
			return nil, &InvalidError{Param: "text", Err: errors.New("encodes to no tokens")}
		}
	}
	vocab := l.m.Config.VocabSize
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return nil, &InvalidError{Param: fmt.Sprintf("ids[%d]", i), Err: fmt.Errorf("token %d is outside the vocabulary of %d", id, vocab)}
		}
	}
	if window := l.contextFor(GenOptions{}); len(ids) > window {
		return nil, &ContextLengthError{PromptTokens: len(ids), ContextLength: window}
	}
	seq, err := l.runner.NewSequence(len(ids))
	if err != nil {
		return nil, fmt.Errorf("logits of %s: new sequence: %w", l.id, err)
	}
	defer seq.Close()
	res := &LogitsResult{IDs: ids}
	// One position at a time when every position is wanted: Forward returns
	// the last position's logits only, and this is the executors' decode path.
	steps := [][]int32{ids}
	if req.All {
		steps = steps[:0]
		for i := range ids {
			steps = append(steps, ids[i:i+1])
		}
	}
	for _, step := range steps {
		out, err := seq.Forward(ctx, step)
		if err != nil {
			return nil, fmt.Errorf("logits of %s: %w", l.id, err)
		}
		res.Logits = append(res.Logits, append([]float32(nil), out...))
	}
	return res, nil
}
