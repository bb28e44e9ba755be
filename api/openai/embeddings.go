package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine"
)

// EmbeddingRequest is the body of POST /v1/embeddings.
type EmbeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"` // string, []string, []int (token ids) or [][]int
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	// InputType names the model's prompt ("query", "document"; Jina's
	// task, Voyage's and Cohere's input_type); absent: the model's default.
	InputType string `json:"input_type"`
	// Truncate cuts inputs longer than the model's max_seq_length instead of
	// failing; the response lists them (Jina's and Voyage's truncation).
	Truncate *bool `json:"truncate"`
	// AllowChatModel opts in to the mean of a chat model's hidden states,
	// which no retrieval model was trained for: refused without it.
	AllowChatModel bool `json:"allow_chat_model"`
	informational
}

// Embedding is a validated embeddings request.
type Embedding struct {
	Request engine.EmbedRequest
	Base64  bool
}

// Engine validates r and converts it for the engine.
func (r *EmbeddingRequest) Engine(d Defaults) (*Embedding, error) {
	if r.Model == "" {
		return nil, paramErr("model", "you must provide a model parameter")
	}
	if !present(r.Input) {
		return nil, paramErr("input", "is required")
	}
	out := &Embedding{Request: engine.EmbedRequest{Model: r.Model, InputType: r.InputType,
		Truncate: r.Truncate != nil && *r.Truncate, AnyModel: r.AllowChatModel}}
	tokens, isTokens, err := tokenLists(r.Input)
	if err != nil {
		return nil, err
	}
	if isTokens {
		out.Request.Tokens = tokens
	} else {
		inputs, err := textList(r.Input, "input")
		if err != nil {
			return nil, err
		}
		if len(inputs) == 0 {
			return nil, paramErr("input", "at least one input is required")
		}
		for i, s := range inputs {
			if s == "" {
				return nil, paramErr(fmt.Sprintf("input[%d]", i), "must not be empty")
			}
		}
		out.Request.Inputs = inputs
	}
	if d.Model != "" {
		out.Request.Model = d.Model
	}
	switch r.EncodingFormat {
	case "", "float":
	case "base64":
		out.Base64 = true
	default:
		return nil, paramErr("encoding_format", "must be float or base64, got %q", r.EncodingFormat)
	}
	if r.Dimensions != nil {
		if *r.Dimensions < 1 {
			return nil, paramErr("dimensions", "must be >= 1, got %d", *r.Dimensions)
		}
		out.Request.Dimensions = *r.Dimensions
	}
	return out, nil
}

// tokenLists reads token-id inputs: an array of integers (one input) or an
// array of such arrays. isTokens is false for text.
func tokenLists(raw json.RawMessage) (out [][]int32, isTokens bool, err error) {
	var one []int32
	if json.Unmarshal(raw, &one) == nil && len(one) > 0 {
		return [][]int32{one}, true, nil
	}
	var many [][]int32
	if json.Unmarshal(raw, &many) != nil || len(many) == 0 {
		if len(raw) > 1 && raw[0] == '[' && (raw[1] == '[' || isNumber(raw[1:2])) {
			return nil, false, typeErr("input", "token ids (integers)", raw)
		}
		return nil, false, nil
	}
	if len(many) > MaxInputs {
		return nil, false, paramErr("input", "at most %d items, got %d", MaxInputs, len(many))
	}
	for i, ids := range many {
		if len(ids) == 0 {
			return nil, false, paramErr(fmt.Sprintf("input[%d]", i), "must not be empty")
		}
	}
	return many, true, nil
}

// EmbeddingList is the answer of an embeddings request.
type EmbeddingList struct {
	Object string          `json:"object"`
	Data   []EmbeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  EmbeddingUsage  `json:"usage"`
	// Truncated lists the inputs cut to MaxTokens (only with truncate).
	Truncated []int `json:"truncated,omitempty"`
	MaxTokens int   `json:"max_tokens,omitempty"`
}

// EmbeddingData is one vector: a list of floats, or with encoding_format base64 the
// little-endian float32 bytes in base64, as OpenAI sends them.
type EmbeddingData struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// EmbeddingUsage counts the input tokens.
type EmbeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// EmbeddingsFrom converts the engine's vectors.
func EmbeddingsFrom(model string, res *engine.EmbedResult, b64 bool) EmbeddingList {
	out := EmbeddingList{Object: "list", Model: model, Data: make([]EmbeddingData, len(res.Vectors)),
		Usage:     EmbeddingUsage{PromptTokens: res.PromptTokens, TotalTokens: res.PromptTokens},
		Truncated: res.Truncated}
	if len(res.Truncated) > 0 {
		out.MaxTokens = res.MaxTokens
	}
	for i, v := range res.Vectors {
		var emb any = v
		if b64 {
			emb = EncodeFloats(v)
		}
		out.Data[i] = EmbeddingData{Object: "embedding", Index: i, Embedding: emb}
	}
	return out
}

// EncodeFloats is base64 of v as little-endian float32s.
func EncodeFloats(v []float32) string {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(buf)
}
