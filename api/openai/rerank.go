package openai

import (
	"encoding/json"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine"
)

// RerankRequest is the body of POST /v1/rerank in the Jina and Cohere form
// (llama-server, vLLM and LocalAI speak the same).
type RerankRequest struct {
	Model     string          `json:"model"`
	Query     string          `json:"query"`
	Documents json.RawMessage `json:"documents"` // strings, or objects with "text"
	TopN      *int            `json:"top_n"`
	// ReturnDocuments puts each document's text in its result (Jina's
	// default, true; Cohere's false).
	ReturnDocuments *bool `json:"return_documents"`
	// Truncate cuts a pair longer than the model's window at the end of the
	// document (the default, as Jina and Cohere do); the response lists them.
	Truncate *bool `json:"truncate"`
	// Instruction is the task of an instruction-following reranker
	// (Qwen3-Reranker's <Instruct> line), under the name vLLM's /v1/rerank
	// and llama-server give it; absent: the model card's default.
	Instruction string `json:"instruction"`
	// MaxChunksPerDoc and RankFields are Cohere v1 options this server ignores.
	MaxChunksPerDoc *int     `json:"max_chunks_per_doc"`
	RankFields      []string `json:"rank_fields"`
}

// Rerank is a validated rerank request.
type Rerank struct {
	Request         engine.RerankRequest
	ReturnDocuments bool
}

// MaxDocuments bounds one rerank request.
const MaxDocuments = 1000

// Engine validates r and converts it for the engine.
func (r *RerankRequest) Engine(d Defaults) (*Rerank, error) {
	if r.Model == "" {
		return nil, paramErr("model", "you must provide a model parameter")
	}
	if r.Query == "" {
		return nil, paramErr("query", "is required")
	}
	if !present(r.Documents) {
		return nil, paramErr("documents", "is required")
	}
	docs, err := documents(r.Documents)
	if err != nil {
		return nil, err
	}
	out := &Rerank{Request: engine.RerankRequest{Model: r.Model, Query: r.Query, Documents: docs, Truncate: true, Instruction: r.Instruction},
		ReturnDocuments: r.ReturnDocuments == nil || *r.ReturnDocuments}
	if d.Model != "" {
		out.Request.Model = d.Model
	}
	if r.TopN != nil {
		if *r.TopN < 1 {
			return nil, paramErr("top_n", "must be >= 1, got %d", *r.TopN)
		}
		out.Request.TopN = *r.TopN
	}
	if r.Truncate != nil {
		out.Request.Truncate = *r.Truncate
	}
	if len(r.RankFields) > 0 {
		return nil, unsupportedValue("rank_fields", "structured documents are not supported: send text")
	}
	return out, nil
}

// documents reads the documents: strings or {"text": ...} objects.
func documents(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, typeErr("documents", "an array", raw)
	}
	if len(items) == 0 {
		return nil, paramErr("documents", "at least one document is required")
	}
	if len(items) > MaxDocuments {
		return nil, paramErr("documents", "at most %d documents, got %d", MaxDocuments, len(items))
	}
	out := make([]string, len(items))
	for i, it := range items {
		param := fmt.Sprintf("documents[%d]", i)
		var s string
		if json.Unmarshal(it, &s) != nil {
			var obj struct {
				Text *string `json:"text"`
			}
			if json.Unmarshal(it, &obj) != nil || obj.Text == nil {
				return nil, typeErr(param, `a string or an object with "text"`, it)
			}
			s = *obj.Text
		}
		if s == "" {
			return nil, paramErr(param, "must not be empty")
		}
		out[i] = s
	}
	return out, nil
}

// RerankList is the answer of a rerank request.
type RerankList struct {
	Object  string         `json:"object"`
	Model   string         `json:"model"`
	Results []RerankResult `json:"results"`
	Usage   RerankUsage    `json:"usage"`
	// Truncated lists the documents cut to fit the model's window.
	Truncated []int `json:"truncated,omitempty"`
}

// RerankResult is one document's score, in decreasing order of relevance.
type RerankResult struct {
	Index          int       `json:"index"`
	RelevanceScore float64   `json:"relevance_score"`
	Document       *Document `json:"document,omitempty"`
}

// Document is a returned document.
type Document struct {
	Text string `json:"text"`
}

// RerankUsage counts the tokens of every query-document pair.
type RerankUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// RerankFrom converts the engine's scores.
func RerankFrom(model string, req *Rerank, res *engine.RerankResult) RerankList {
	out := RerankList{Object: "list", Model: model, Results: make([]RerankResult, len(res.Results)),
		Usage: RerankUsage{PromptTokens: res.PromptTokens, TotalTokens: res.PromptTokens}, Truncated: res.Truncated}
	for i, r := range res.Results {
		out.Results[i] = RerankResult{Index: r.Index, RelevanceScore: r.Score}
		if req.ReturnDocuments {
			out.Results[i].Document = &Document{Text: req.Request.Documents[r.Index]}
		}
	}
	return out
}
