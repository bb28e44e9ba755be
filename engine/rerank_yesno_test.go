//go:build !race

// The float64 oracle runs a few hundred positions per document: seconds
// under the race detector, so make test-norace runs this file.

package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// yesNoModel writes a tiny Qwen3ForCausalLM under a Qwen3-Reranker name.
func yesNoModel(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.WriteYesNoReranker(dir, modeltest.Spec{Arch: "qwen3", Seed: 13}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// yesNoOracle is the model card's score of one pair: the prefix, the
// formatted instruction (format_instruction: the card's default when
// instruction is ""), query and document, and the suffix, tokenized apart; then exp(log_softmax([no, yes]))[1] of the last position's logits
// from the float64 transformers implementation.
// A body longer than limit less the prefix and suffix is cut at its end, as
// the card's tokenizer call (truncation to max_length minus both) does.
func yesNoOracle(t *testing.T, dir, instruction, query, doc string, limit int) float64 {
	t.Helper()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
	suffix := "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
	if instruction == "" {
		instruction = "Given a web search query, retrieve relevant passages that answer the query"
	}
	body := "<Instruct>: " + instruction + "\n<Query>: " + query + "\n<Document>: " + doc
	pre, mid, suf := tok.Encode(prefix, false), tok.Encode(body, true), tok.Encode(suffix, false)
	if room := limit - len(pre) - len(suf); len(mid) > room {
		mid = mid[:room]
	}
	var ids []int
	for _, part := range [][]int32{pre, mid, suf} {
		for _, id := range part {
			ids = append(ids, int(id))
		}
	}
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := hfref.Logits(config, w, ids)
	if err != nil {
		t.Fatal(err)
	}
	last := logits[len(logits)-1]
	no, yes := last[modeltest.NoToken], last[modeltest.YesToken]
	m := max(no, yes)
	logZ := m + math.Log(math.Exp(no-m)+math.Exp(yes-m))
	return math.Exp(yes - logZ)
}

// TestRerankQwen3YesNo: a Qwen3ForCausalLM named Qwen3-Reranker is a
// reranker whose scores are the oracle's yes/no probabilities, best first,
// whatever the order of the documents that share its cached prompt start.
func TestRerankQwen3YesNo(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	dir := yesNoModel(t, "Qwen3-Reranker-tiny")
	if k := describe("Qwen3-Reranker-tiny", dir).Kind; k != KindReranker {
		t.Fatalf("kind %q, want reranker", k)
	}
	query := "what is the capital of france"
	docs := []string{"Paris is the capital of France.", "The cat sat on the mat.", "Paris is the capital of France.", "Berlin"}
	res, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: query, Documents: docs})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(docs) || res.PromptTokens == 0 {
		t.Fatalf("%+v", res)
	}
	for i, r := range res.Results {
		if i > 0 && r.Score > res.Results[i-1].Score {
			t.Errorf("results not sorted: %+v", res.Results)
		}
		if want := yesNoOracle(t, dir, "", query, docs[r.Index], DefaultContext); math.Abs(r.Score-want) > 1e-5 {
			t.Errorf("document %d: score %.7f, want %.7f", r.Index, r.Score, want)
		}
	}
	// The test model's window is 256 tokens: a longer pair is refused, or
	// cut at the end of its document when truncation is asked for.
	long := docs[0]
	for range 40 {
		long += " " + docs[1]
	}
	if _, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: query, Documents: []string{docs[3], long}}); !errors.As(err, new(*ContextLengthError)) {
		t.Errorf("a pair over the window: %v", err)
	}
	cut, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: query, Documents: []string{docs[3], long}, Truncate: true})
	if err != nil || len(cut.Truncated) != 1 || cut.Truncated[0] != 1 {
		t.Fatalf("truncated: %+v, %v", cut, err)
	}
	for _, r := range cut.Results {
		if want := yesNoOracle(t, dir, "", query, []string{docs[3], long}[r.Index], 256); math.Abs(r.Score-want) > 1e-5 {
			t.Errorf("truncated, document %d: score %.7f, want %.7f", r.Index, r.Score, want)
		}
	}
	chat := tinyModelSpec(t, modeltest.Spec{Arch: "qwen3", Seed: 13})
	if _, err := e.Rerank(ctx, RerankRequest{Model: chat, Query: query, Documents: docs}); !errors.Is(err, ErrNotReranker) {
		t.Errorf("a Qwen3 chat model reranking: %v", err)
	}
}

// TestRerankQwen3Instruction: a custom instruction replaces the card's
// default in the <Instruct> line, and the scores are the oracle's for that
// prompt, which differ from the default prompt's.
func TestRerankQwen3Instruction(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	dir := yesNoModel(t, "Qwen3-Reranker-tiny")
	query := "frying pan"
	docs := []string{"ice cream bowl", "ribeye steak", "cast iron skillet"}
	instruction := "Rank the document by its material and shape"
	def, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: query, Documents: docs})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: query, Documents: docs, Instruction: instruction})
	if err != nil {
		t.Fatal(err)
	}
	if res.PromptTokens == def.PromptTokens {
		t.Errorf("the instruction did not change the prompt: %d tokens both", res.PromptTokens)
	}
	byIndex := map[int]float64{}
	for _, r := range def.Results {
		byIndex[r.Index] = r.Score
	}
	changed := false
	for _, r := range res.Results {
		if want := yesNoOracle(t, dir, instruction, query, docs[r.Index], DefaultContext); math.Abs(r.Score-want) > 1e-5 {
			t.Errorf("document %d: score %.7f, want %.7f", r.Index, r.Score, want)
		}
		changed = changed || math.Abs(r.Score-byIndex[r.Index]) > 1e-4
	}
	if !changed {
		t.Errorf("the instruction left every score as the default's: %+v", res.Results)
	}
}
