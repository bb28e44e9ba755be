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
	Input          json.RawMessage `json:"input"` // string or []string; token arrays are refused
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
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
	out := &Embedding{Request: engine.EmbedRequest{Model: r.Model, Inputs: inputs}}
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

// EmbeddingList is the answer of an embeddings request.
type EmbeddingList struct {
	Object string          `json:"object"`
	Data   []EmbeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  EmbeddingUsage  `json:"usage"`
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
		Usage: EmbeddingUsage{PromptTokens: res.PromptTokens, TotalTokens: res.PromptTokens}}
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
