package engine

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Errors of a model asked for what it does not do.
var (
	ErrNotEmbedding = errors.New("not an embedding model")
	ErrNotReranker  = errors.New("not a reranking model")
	ErrNotChat      = errors.New("not a chat model")
)

// readKind sets what the loaded model is for and, for embedding models,
// how it pools. An embedding model whose pooling cannot be followed is
// refused at load rather than answering with wrong vectors.
func (l *loaded) readKind(dir string) error {
	arch := ""
	if len(l.m.Config.Architectures) > 0 {
		arch = l.m.Config.Architectures[0]
	}
	l.kind = modelKind(dir, arch)
	_, encoder := l.m.Def.(model.EncoderDefinition)
	if l.kind == KindChat && encoder {
		l.kind = KindEmbedding
	}
	if l.kind == KindReranker && isYesNoReranker(dir, arch) {
		var err error
		l.yesNo, err = readYesNo(l.tok)
		return err
	}
	if l.kind == KindReranker {
		s, err := sigmoidScores(l.m.Config.Raw)
		l.scoreSigmoid = s
		return err
	}
	if l.kind != KindEmbedding {
		return nil
	}
	p, err := readPooling(dir)
	if err != nil {
		return err
	}
	if len(p.prompts) == 0 {
		p.prompts = familyPrompts[arch]
	}
	p.layerNormCut = layerNormsBeforeCut(l.id, arch, l.m.Config.Raw)
	l.pooling = p
	return nil
}

// wantKind refuses a model of another kind before it is loaded: loading a
// chat model of gigabytes only to refuse it would evict what is in use.
func (e *Engine) wantKind(id, kind string) error {
	dir, err := e.resolveDir(id)
	if err != nil {
		return nil // acquire reports it
	}
	info := describe(id, dir)
	have := info.Kind
	if have == kind || !info.Supported {
		return nil // an unsupported model: loading says why
	}
	switch kind {
	case KindEmbedding:
		return &InvalidError{Param: "model", Err: fmt.Errorf("%w: %s is a %s model; use an embedding model such as sentence-transformers/all-MiniLM-L6-v2", ErrNotEmbedding, id, have)}
	default:
		return &InvalidError{Param: "model", Err: fmt.Errorf("%w: %s is a %s model; use a cross-encoder such as cross-encoder/ms-marco-MiniLM-L-6-v2", ErrNotReranker, id, have)}
	}
}

// requireChat refuses to generate text with an embedding or reranking model,
// which has no language-model head.
func (l *loaded) requireChat() error {
	if l.kind == KindChat {
		return nil
	}
	return &InvalidError{Param: "model", Err: fmt.Errorf("%w: %s is a %s model: use /v1/embeddings or /v1/rerank", ErrNotChat, l.id, l.kind)}
}

// Embed returns one vector per input, pooled (mean, CLS or last token) and
// normalised as the model's sentence-transformers files say, truncated to
// Dimensions when asked (matryoshka.go). A chat model is refused unless req.AnyModel asks
// for the mean of its hidden states.
func (e *Engine) Embed(ctx context.Context, req EmbedRequest) (*EmbedResult, error) {
	if len(req.Inputs) == 0 && len(req.Tokens) == 0 {
		return nil, &InvalidError{Param: "input", Err: errors.New("at least one input is required")}
	}
	if !req.AnyModel {
		if err := e.wantKind(req.Model, KindEmbedding); err != nil {
			return nil, err
		}
	}
	lease, l, err := e.acquire(ctx, req.Model, nil)
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	p := l.pooling
	if l.kind != KindEmbedding {
		if !req.AnyModel || l.kind != KindChat {
			return nil, &InvalidError{Param: "model", Err: fmt.Errorf("%w: %s is a %s model; use an embedding model such as sentence-transformers/all-MiniLM-L6-v2", ErrNotEmbedding, l.id, l.kind)}
		}
		p = defaultPooling
	}
	hidden := l.m.Config.HiddenSize
	if req.Dimensions < 0 || req.Dimensions > hidden {
		return nil, &InvalidError{Param: "dimensions", Err: fmt.Errorf("must be between 1 and %d for this model", hidden)}
	}
	inputs, err := l.embedInputs(req, &p)
	if err != nil {
		return nil, err
	}
	limit := l.contextFor(GenOptions{})
	if p.maxLen > 0 {
		limit = min(limit, p.maxLen)
	}
	res := &EmbedResult{Model: l.id}
	for i, ids := range inputs {
		if len(ids) > limit {
			if !req.Truncate {
				return nil, &ContextLengthError{PromptTokens: len(ids), ContextLength: limit}
			}
			inputs[i] = l.truncate(ids, limit)
			res.Truncated, res.MaxTokens = append(res.Truncated, i), limit
		}
		res.PromptTokens += len(inputs[i])
	}
	if res.Vectors, err = l.embedAll(ctx, inputs, p.mode); err != nil {
		return nil, err
	}
	for i, v := range res.Vectors {
		res.Vectors[i] = p.finish(v, req.Dimensions)
	}
	if len(res.Truncated) > 0 {
		e.log.Warn("embedding inputs truncated", "model", l.id, "inputs", res.Truncated, "max_tokens", limit)
	}
	return res, nil
}

// embedInputs tokenizes the text inputs, each after the model's prompt for
// req.InputType, or checks the token-id inputs.
func (l *loaded) embedInputs(req EmbedRequest, p *pooling) ([][]int32, error) {
	if len(req.Inputs) > 0 && len(req.Tokens) > 0 {
		return nil, &InvalidError{Param: "input", Err: errors.New("give texts or token ids, not both")}
	}
	var out [][]int32
	for i, ids := range req.Tokens {
		if len(ids) == 0 {
			return nil, &InvalidError{Param: fmt.Sprintf("input[%d]", i), Err: errors.New("is empty")}
		}
		for _, t := range ids {
			if t < 0 || int(t) >= l.m.Config.VocabSize {
				return nil, &InvalidError{Param: fmt.Sprintf("input[%d]", i), Err: fmt.Errorf("token %d is outside the vocabulary of %d", t, l.m.Config.VocabSize)}
			}
		}
		out = append(out, ids)
	}
	prompt, err := p.prompt(req.InputType)
	if err != nil {
		return nil, &InvalidError{Param: "input_type", Err: err}
	}
	for i, text := range req.Inputs {
		ids := l.tok.Encode(prompt+text, true)
		if len(ids) == 0 {
			return nil, &InvalidError{Param: fmt.Sprintf("input[%d]", i), Err: errors.New("is empty")}
		}
		out = append(out, ids)
	}
	return out, nil
}

// truncate cuts ids to n tokens, keeping the last one when it is special
// (BERT's [SEP], Qwen3-Embedding's <|endoftext|>, whose state last-token
// pooling reads), as the tokenizers' truncation does.
func (l *loaded) truncate(ids []int32, n int) []int32 {
	last := ids[len(ids)-1]
	if n > 1 && l.tok.IsSpecial(last) {
		return append(append([]int32(nil), ids[:n-1]...), last)
	}
	return ids[:n]
}

// embedAll pools every input's final hidden states. An encoder runs its
// inputs in batches of up to its window of tokens, one pass each; a
// decoder one input at a time.
func (l *loaded) embedAll(ctx context.Context, inputs [][]int32, mode string) ([][]float32, error) {
	out := make([][]float32, 0, len(inputs))
	if _, ok := l.m.Def.(model.EncoderDefinition); !ok {
		for _, ids := range inputs {
			v, err := l.embedOne(ctx, ids, mode)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	for first := 0; first < len(inputs); {
		n, end := 0, first
		for end < len(inputs) && n+len(inputs[end]) <= l.ctxLen {
			n += len(inputs[end])
			end++
		}
		if end == first { // longer than the window: the executor says so
			n, end = len(inputs[first]), first+1
		}
		vs, err := l.embedBatch(ctx, inputs[first:end], n, mode)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
		first = end
	}
	return out, nil
}

// embedBatch pools the hidden states of an encoder's inputs of n tokens in all.
func (l *loaded) embedBatch(ctx context.Context, batch [][]int32, n int, mode string) ([][]float32, error) {
	seq, err := l.runner.NewSequence(n)
	if err != nil {
		return nil, fmt.Errorf("new sequence: %w", err)
	}
	defer seq.Close()
	enc, ok := seq.(model.Encoder)
	if !ok {
		return nil, fmt.Errorf("%w: the %s executor does not run encoders", ErrUnsupported, l.runner.Backend())
	}
	hs, err := enc.EncodeBatch(ctx, batch, nil)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	hidden := l.m.Config.HiddenSize
	out := make([][]float32, len(batch))
	for i, h := range hs {
		if len(h) != len(batch[i])*hidden {
			return nil, fmt.Errorf("embed: executor returned %d values for %d tokens of %d", len(h), len(batch[i]), hidden)
		}
		out[i] = poolStates(h, len(batch[i]), hidden, mode)
	}
	return out, nil
}

// embedOne pools the final hidden states of ids: an encoder's from one
// bidirectional pass, a decoder's causal ones.
func (l *loaded) embedOne(ctx context.Context, ids []int32, mode string) ([]float32, error) {
	hidden := l.m.Config.HiddenSize
	seq, err := l.runner.NewSequence(len(ids))
	if err != nil {
		return nil, fmt.Errorf("new sequence: %w", err)
	}
	defer seq.Close()
	var h []float32
	if _, ok := l.m.Def.(model.EncoderDefinition); ok {
		enc, ok := seq.(model.Encoder)
		if !ok {
			return nil, fmt.Errorf("%w: the %s executor does not run encoders", ErrUnsupported, l.runner.Backend())
		}
		h, err = enc.Encode(ctx, ids, nil)
	} else {
		h, err = seq.Hidden(ctx, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if len(h) != len(ids)*hidden {
		return nil, fmt.Errorf("embed: executor returned %d values for %d tokens of %d", len(h), len(ids), hidden)
	}
	return poolStates(h, len(ids), hidden, mode), nil
}

// poolStates is sentence-transformers' Pooling over one unpadded sequence of n
// token states (n, hidden).
func poolStates(h []float32, n, hidden int, mode string) []float32 {
	v := make([]float32, hidden)
	switch mode {
	case "cls":
		copy(v, h[:hidden])
	case "lasttoken":
		copy(v, h[(n-1)*hidden:])
	default: // mean
		sum := make([]float64, hidden)
		for t := range n {
			for k, x := range h[t*hidden : (t+1)*hidden] {
				sum[k] += float64(x)
			}
		}
		for k := range v {
			v[k] = float32(sum[k] / float64(n))
		}
	}
	return v
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
