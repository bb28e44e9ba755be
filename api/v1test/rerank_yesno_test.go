package v1test

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
)

// yesNoID is a yes/no reranker (Qwen3ForCausalLM), installed by envOptions.yesNo.
const yesNoID = "test/Qwen3-Reranker-tiny"

// TestRerankYesNo: a Qwen3-Reranker answers /v1/rerank and /rerank with
// the engine's yes/no scores (checked against the float64 oracle in
// engine's TestRerankQwen3YesNo), best first.
func TestRerankYesNo(t *testing.T) {
	e := start(t, envOptions{yesNo: true})
	docs := []string{"Paris is the capital of France.", "The cat sat on the mat.", "Berlin"}
	want, err := e.eng.Rerank(context.Background(), engine.RerankRequest{Model: yesNoID, Query: "capital of france", Documents: docs})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/rerank", "/rerank"} {
		var out struct {
			Model   string `json:"model"`
			Results []struct {
				Index          int     `json:"index"`
				RelevanceScore float64 `json:"relevance_score"`
			} `json:"results"`
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		e.call(t, path, map[string]any{"model": yesNoID, "query": "capital of france", "documents": docs}, 200, &out)
		if out.Model != yesNoID || len(out.Results) != len(docs) || out.Usage.TotalTokens != want.PromptTokens {
			t.Fatalf("%s: %+v", path, out)
		}
		for i, r := range out.Results {
			if r.Index != want.Results[i].Index || r.RelevanceScore != want.Results[i].Score {
				t.Errorf("%s result %d: %+v, want %+v", path, i, r, want.Results[i])
			}
		}
	}
}

// TestRerankYesNoInstruction: /v1/rerank's instruction (vLLM's and
// llama-server's field) reaches the yes/no reranker's prompt: the scores
// are the engine's for that instruction (checked against the oracle in
// engine's TestRerankQwen3Instruction).
func TestRerankYesNoInstruction(t *testing.T) {
	e := start(t, envOptions{yesNo: true})
	docs := []string{"ice cream bowl", "ribeye steak", "cast iron skillet"}
	instruction := "Rank the document by its material and shape"
	want, err := e.eng.Rerank(context.Background(), engine.RerankRequest{Model: yesNoID, Query: "frying pan", Documents: docs, Instruction: instruction})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Results []struct {
			Index          int     `json:"index"`
			RelevanceScore float64 `json:"relevance_score"`
		} `json:"results"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	e.call(t, "/v1/rerank", map[string]any{"model": yesNoID, "query": "frying pan", "documents": docs, "instruction": instruction}, 200, &out)
	if len(out.Results) != len(docs) || out.Usage.TotalTokens != want.PromptTokens {
		t.Fatalf("%+v, want %d tokens", out, want.PromptTokens)
	}
	for i, r := range out.Results {
		if r.Index != want.Results[i].Index || r.RelevanceScore != want.Results[i].Score {
			t.Errorf("result %d: %+v, want %+v", i, r, want.Results[i])
		}
	}
}
