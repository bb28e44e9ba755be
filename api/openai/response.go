package openai

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Meta identifies one answer: the same id, creation time, model and fingerprint
// appear in every chunk of a stream.
type Meta struct {
	ID                string
	Created           int64
	Model             string
	SystemFingerprint string
}

// NewMeta starts an answer for model with an id of the given prefix ("chatcmpl-",
// "cmpl-", "msg_") and a fingerprint of the model that answers (so clients that
// watch system_fingerprint see a change when the model behind a name changes).
func NewMeta(prefix, model, answering string, now time.Time) Meta {
	return Meta{ID: NewID(prefix), Created: now.Unix(), Model: model, SystemFingerprint: Fingerprint(answering)}
}

// NewID is prefix followed by 24 random letters and digits.
func NewID(prefix string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [24]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b[:])
}

// Fingerprint names the configuration that answers: "fp_" and a hash of the model id.
func Fingerprint(model string) string {
	h := sha256.Sum256([]byte("mlx-manager/" + model))
	return "fp_" + hex.EncodeToString(h[:5])
}

// Usage is OpenAI's token usage.
type Usage struct {
	PromptTokens        int           `json:"prompt_tokens"`
	CompletionTokens    int           `json:"completion_tokens"`
	TotalTokens         int           `json:"total_tokens"`
	PromptTokensDetails *PromptDetail `json:"prompt_tokens_details,omitempty"`
}

// PromptDetail says how much of the prompt was served from cache: the KV cache
// of the previous request, which the engine reuses for a chat's next turn.
type PromptDetail struct {
	CachedTokens int `json:"cached_tokens"`
}

// UsageFrom converts a request's usage (every choice's completion, the prompt once).
func UsageFrom(u engine.Usage) *Usage {
	return &Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		TotalTokens: u.PromptTokens + u.CompletionTokens, PromptTokensDetails: &PromptDetail{CachedTokens: u.CachedTokens}}
}

// ChatCompletion is the answer of a non-streamed chat completion.
type ChatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []ChatChoice `json:"choices"`
	Usage             *Usage       `json:"usage"`
	Timings           *Timings     `json:"timings,omitempty"` // llama-server's, in non-streamed answers
	// An extension: what the context overflow policy dropped; absent when nothing.
	ContextOverflow *ContextOverflow `json:"context_overflow,omitempty"`
	// An extension: what the user should know about the answer (a base model chatting).
	Warning string `json:"warning,omitempty"`
}

// ChatChoice is one generated answer.
type ChatChoice struct {
	Index        int           `json:"index"`
	Message      AnswerMessage `json:"message"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

// AnswerMessage is the assistant message of a choice.
type AnswerMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	Refusal          *string    `json:"refusal"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// ChatLogprobs are a choice's token logprobs.
type ChatLogprobs struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// TokenLogprob is one token with its logprob and its most likely alternatives.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one alternative.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ChatChoiceFrom converts one engine result into choice index.
func ChatChoiceFrom(index int, res *engine.Result, logprobs bool) ChatChoice {
	msg := AnswerMessage{Role: "assistant", ReasoningContent: res.Reasoning}
	if res.Content != "" || len(res.ToolCalls) == 0 {
		c := res.Content
		msg.Content = &c
	}
	for _, tc := range res.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: tc.ID, Type: "function",
			Function: FunctionCall{Name: tc.Name, Arguments: string(tc.Arguments)}})
	}
	ch := ChatChoice{Index: index, Message: msg, FinishReason: res.FinishReason}
	if logprobs {
		ch.Logprobs = &ChatLogprobs{Content: tokenLogprobs(res.Logprobs), Refusal: nil}
	}
	return ch
}

func tokenLogprobs(in []engine.TokenLogprob) []TokenLogprob {
	out := make([]TokenLogprob, 0, len(in))
	for _, lp := range in {
		t := TokenLogprob{Token: tokenText(lp.Bytes), Logprob: float64(lp.Logprob), Bytes: byteInts(lp.Bytes), TopLogprobs: []TopLogprob{}}
		for _, a := range lp.Top {
			t.TopLogprobs = append(t.TopLogprobs, TopLogprob{Token: tokenText(a.Bytes), Logprob: float64(a.Logprob), Bytes: byteInts(a.Bytes)})
		}
		out = append(out, t)
	}
	return out
}

// tokenText is what a token adds to the text. A token that holds part of a UTF-8
// character is written as OpenAI does, "bytes:" and the escaped bytes; its bytes
// field has the exact value.
func tokenText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	s.WriteString("bytes:")
	for _, c := range b {
		fmt.Fprintf(&s, "\\x%02x", c)
	}
	return s.String()
}

func byteInts(b []byte) []int {
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}
