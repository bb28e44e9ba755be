package engine

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// Qwen3-Reranker is a Qwen3ForCausalLM checkpoint asked, in a fixed chat
// prompt, whether a document meets a query: its score is the probability of
// "yes" against "no" at the last position, as its model card computes it
// (log_softmax over the two logits, then exp of the "yes" one). The prompt
// is the model card's prefix, "<Instruct>: …\n<Query>: …\n<Document>: …",
// and suffix, each tokenized on its own as the card does.
const (
	qwen3RerankPrefix = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. " +
		"Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
	qwen3RerankSuffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
	// qwen3RerankInstruction is the card's instruction when none is given.
	qwen3RerankInstruction = "Given a web search query, retrieve relevant passages that answer the query"
)

// yesNo holds the token ids a yes/no reranker's score compares.
type yesNo struct{ yes, no int32 }

// isYesNoReranker reports a Qwen3-Reranker by its architecture and its name
// (repository or folder): the checkpoint is an ordinary Qwen3ForCausalLM,
// and nothing else in its files says it is a reranker.
func isYesNoReranker(name, arch string) bool {
	return arch == "Qwen3ForCausalLM" && strings.Contains(strings.ToLower(name), "qwen3-reranker")
}

// readYesNo finds the "yes" and "no" tokens of a yes/no reranker.
func readYesNo(tok *tokenizer.Tokenizer) (*yesNo, error) {
	yes, ok1 := tok.TokenID("yes")
	no, ok2 := tok.TokenID("no")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: a yes/no reranker needs \"yes\" and \"no\" tokens in its vocabulary", ErrUnsupported)
	}
	return &yesNo{yes: yes, no: no}, nil
}

// yesNoPrompt is the token ids of the reranker's prompt for one pair, and
// whether the document was cut to fit limit tokens. The instruction (the
// card's default when ""), query and document are the user's: token
// look-alikes in them stay text.
func (l *loaded) yesNoPrompt(instruction, query, doc string, limit int) ([]int32, bool) {
	if instruction == "" {
		instruction = qwen3RerankInstruction
	}
	pre := l.tok.Encode(qwen3RerankPrefix, false)
	suf := l.tok.Encode(qwen3RerankSuffix, false)
	body := l.tok.EncodeSegments([]tokenizer.Segment{
		{Text: "<Instruct>: "},
		{Text: instruction},
		{Text: "\n<Query>: "},
		{Text: query},
		{Text: "\n<Document>: "},
		{Text: doc},
	}, true)
	// The card truncates the body to max_length minus the prefix and suffix.
	cut := false
	if room := limit - len(pre) - len(suf); len(body) > room {
		body, cut = body[:max(room, 0)], true
	}
	ids := append(append(append(make([]int32, 0, len(pre)+len(body)+len(suf)), pre...), body...), suf...)
	return ids, cut
}

// rerankYesNo scores every document with a yes/no reranker. The prompts
// share their beginning (system prompt, instruction, query), which stays
// in one sequence's cache: each document appends only what differs.
func (l *loaded) rerankYesNo(ctx context.Context, req RerankRequest, limit int, res *RerankResult) error {
	prompts := make([][]int32, len(req.Documents))
	longest := 0
	for i, doc := range req.Documents {
		ids, cut := l.yesNoPrompt(req.Instruction, req.Query, doc, limit)
		if cut {
			if !req.Truncate {
				whole, _ := l.yesNoPrompt(req.Instruction, req.Query, doc, math.MaxInt)
				return &ContextLengthError{PromptTokens: len(whole), ContextLength: limit}
			}
			res.Truncated = append(res.Truncated, i)
		}
		prompts[i] = ids
		longest = max(longest, len(ids))
		res.PromptTokens += len(ids)
	}
	seq, err := l.runner.NewSequence(longest)
	if err != nil {
		return fmt.Errorf("new sequence: %w", err)
	}
	defer seq.Close()
	var prev []int32
	for i, ids := range prompts {
		// Keep the cached prefix shared with the previous prompt, less one
		// token when they are equal: the last position must be run again.
		keep := 0
		for keep < len(prev) && keep < len(ids)-1 && prev[keep] == ids[keep] {
			keep++
		}
		if err := seq.Truncate(keep); err != nil {
			return fmt.Errorf("rerank: %w", err)
		}
		logits, err := seq.Forward(ctx, ids[keep:])
		if err != nil {
			return fmt.Errorf("rerank: %w", err)
		}
		// exp(log_softmax([no, yes])[1]) is the sigmoid of yes - no.
		d := float64(logits[l.yesNo.yes]) - float64(logits[l.yesNo.no])
		res.Results = append(res.Results, RerankScore{Index: i, Score: 1 / (1 + math.Exp(-d))})
		prev = ids
	}
	return nil
}
