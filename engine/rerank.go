package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// RerankRequest asks a cross-encoder how relevant each document is to a query.
type RerankRequest struct {
	Model     string
	Query     string
	Documents []string
	TopN      int // 0: every document
	// Truncate cuts a query-document pair longer than the model's window at
	// the end of the document, listed in RerankResult.Truncated; otherwise
	// it is a context-length error.
	Truncate bool
	// Instruction is a yes/no reranker's task, the <Instruct> line of
	// Qwen3-Reranker's prompt; "": the model card's default. A cross-encoder
	// has no place for one and refuses it rather than ignore it.
	Instruction string
}

// RerankResult lists the documents by decreasing relevance.
type RerankResult struct {
	Model        string
	Results      []RerankScore
	PromptTokens int
	Truncated    []int // indexes of the documents cut to fit
}

// RerankScore is one document's relevance as sentence-transformers'
// CrossEncoder scores a one-label model: the sigmoid of its logit, or the
// logit itself when the model's config.json names the Identity activation
// (cross-encoder/ms-marco-MiniLM-L-6-v2 does).
type RerankScore struct {
	Index int
	Score float64
}

// Rerank scores every document against the query with a sequence
// classification model, one [CLS] query [SEP] document [SEP] pass each, or
// with a yes/no reranker (Qwen3-Reranker, rerank_yesno.go).
func (e *Engine) Rerank(ctx context.Context, req RerankRequest) (*RerankResult, error) {
	switch {
	case req.Query == "":
		return nil, &InvalidError{Param: "query", Err: errors.New("is required")}
	case len(req.Documents) == 0:
		return nil, &InvalidError{Param: "documents", Err: errors.New("at least one document is required")}
	case req.TopN < 0:
		return nil, &InvalidError{Param: "top_n", Err: errors.New("must be >= 1")}
	}
	if err := e.wantKind(req.Model, KindReranker); err != nil {
		return nil, err
	}
	lease, l, err := e.acquire(ctx, req.Model, nil)
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	if l.kind == KindReranker && l.yesNo != nil {
		limit := l.contextFor(GenOptions{})
		res := &RerankResult{Model: l.id}
		if err := l.rerankYesNo(ctx, req, limit, res); err != nil {
			return nil, err
		}
		return e.ranked(l, req, res, limit), nil
	}
	def, ok := l.m.Def.(model.EncoderDefinition)
	if l.kind != KindReranker || !ok {
		return nil, &InvalidError{Param: "model", Err: fmt.Errorf("%w: %s is a %s model; use a cross-encoder such as cross-encoder/ms-marco-MiniLM-L-6-v2", ErrNotReranker, l.id, l.kind)}
	}
	if req.Instruction != "" {
		return nil, &InvalidError{Param: "instruction", Err: fmt.Errorf("%s is a cross-encoder, which takes no instruction (instruction-following rerankers such as Qwen3-Reranker do)", l.id)}
	}
	if def.Labels() != 1 {
		return nil, &InvalidError{Param: "model", Err: fmt.Errorf("%w: %s classifies into %d labels; reranking needs one relevance score", ErrNotReranker, l.id, def.Labels())}
	}
	limit := l.contextFor(GenOptions{})
	res := &RerankResult{Model: l.id}
	pairs, types := make([][]int32, len(req.Documents)), make([][]int32, len(req.Documents))
	for i, doc := range req.Documents {
		ids, ty, err := l.tok.EncodePair(req.Query, doc)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		if len(ids) > limit {
			if !req.Truncate {
				return nil, &ContextLengthError{PromptTokens: len(ids), ContextLength: limit}
			}
			cut := l.truncate(ids, limit)
			ty = append(ty[:limit-1:limit-1], ty[len(ty)-1])
			ids = cut
			res.Truncated = append(res.Truncated, i)
		}
		pairs[i], types[i] = ids, ty
		res.PromptTokens += len(ids)
	}
	logits, err := l.classifyAll(ctx, pairs, types)
	if err != nil {
		return nil, err
	}
	for i, logit := range logits {
		score := float64(logit)
		if l.scoreSigmoid {
			score = 1 / (1 + math.Exp(-score))
		}
		res.Results = append(res.Results, RerankScore{Index: i, Score: score})
	}
	return e.ranked(l, req, res, limit), nil
}

// ranked sorts the scored documents best first and keeps req.TopN of them.
func (e *Engine) ranked(l *loaded, req RerankRequest, res *RerankResult, limit int) *RerankResult {
	sort.SliceStable(res.Results, func(a, b int) bool { return res.Results[a].Score > res.Results[b].Score })
	if req.TopN > 0 && req.TopN < len(res.Results) {
		res.Results = res.Results[:req.TopN]
	}
	if len(res.Truncated) > 0 {
		e.log.Warn("rerank documents truncated", "model", l.id, "documents", res.Truncated, "max_tokens", limit)
	}
	return res
}

// classifyAll is the single logit of the cross-encoder for each pair, the
// pairs run in batches of up to the model's window of tokens.
func (l *loaded) classifyAll(ctx context.Context, pairs, types [][]int32) ([]float32, error) {
	out := make([]float32, 0, len(pairs))
	for first := 0; first < len(pairs); {
		n, end := 0, first
		for end < len(pairs) && n+len(pairs[end]) <= l.ctxLen {
			n += len(pairs[end])
			end++
		}
		if end == first { // longer than the window: the executor says so
			n, end = len(pairs[first]), first+1
		}
		seq, err := l.runner.NewSequence(n)
		if err != nil {
			return nil, fmt.Errorf("new sequence: %w", err)
		}
		enc, ok := seq.(model.Encoder)
		if !ok {
			seq.Close()
			return nil, fmt.Errorf("%w: the %s executor does not run encoders", ErrUnsupported, l.runner.Backend())
		}
		scores, err := enc.ClassifyBatch(ctx, pairs[first:end], types[first:end])
		seq.Close()
		if err != nil {
			return nil, fmt.Errorf("rerank: %w", err)
		}
		for _, s := range scores {
			if len(s) != 1 {
				return nil, fmt.Errorf("rerank: %d scores, want 1", len(s))
			}
			out = append(out, s[0])
		}
		first = end
	}
	return out, nil
}

// sigmoidScores reads the CrossEncoder activation of a config.json:
// sbert_ce_default_activation_function (sentence-transformers < 4) or
// sentence_transformers.activation_fn; Sigmoid when neither is written.
func sigmoidScores(raw []byte) (bool, error) {
	var c struct {
		Old string `json:"sbert_ce_default_activation_function"`
		ST  struct {
			Act string `json:"activation_fn"`
		} `json:"sentence_transformers"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, fmt.Errorf("config.json: %w", err)
	}
	act := c.ST.Act
	if act == "" {
		act = c.Old
	}
	switch act {
	case "", "torch.nn.modules.activation.Sigmoid":
		return true, nil
	case "torch.nn.modules.linear.Identity":
		return false, nil
	}
	return false, fmt.Errorf("%w: cross-encoder activation %s (Sigmoid and Identity are supported)", ErrUnsupported, act)
}
