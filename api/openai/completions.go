package openai

import (
	"encoding/json"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine"
)

// CompletionRequest is the body of POST /v1/completions (OpenAI's legacy
// completions), plus the same extensions as chat.
type CompletionRequest struct {
	Model            string             `json:"model"`
	Prompt           json.RawMessage    `json:"prompt"` // string or []string; token arrays are refused
	Suffix           *string            `json:"suffix"`
	MaxTokens        *int               `json:"max_tokens"`
	Temperature      *float64           `json:"temperature"`
	TopP             *float64           `json:"top_p"`
	N                *int               `json:"n"`
	BestOf           *int               `json:"best_of"`
	Stream           bool               `json:"stream"`
	StreamOptions    *StreamOptions     `json:"stream_options"`
	Logprobs         *int               `json:"logprobs"`
	Echo             bool               `json:"echo"`
	Stop             json.RawMessage    `json:"stop"`
	PresencePenalty  *float64           `json:"presence_penalty"`
	FrequencyPenalty *float64           `json:"frequency_penalty"`
	LogitBias        map[string]float64 `json:"logit_bias"`
	Seed             *int64             `json:"seed"`
	informational

	TopK              *int            `json:"top_k"`
	MinP              *float64        `json:"min_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	KeepAlive         json.RawMessage `json:"keep_alive"`
	TTL               *int            `json:"ttl"`
}

// Completion is a validated completions request: one engine request per prompt,
// each run N times.
type Completion struct {
	Requests     []engine.CompletionRequest
	N            int
	Stream       bool
	IncludeUsage bool
	Echo         bool
	Logprobs     bool
}

// Engine validates r and converts it for the engine. A profile's system prompt
// does not apply: a raw prompt has no messages.
func (r *CompletionRequest) Engine(d Defaults) (*Completion, error) {
	if r.Model == "" {
		return nil, paramErr("model", "you must provide a model parameter")
	}
	prompts, err := promptList(r.Prompt)
	if err != nil {
		return nil, err
	}
	out := &Completion{Stream: r.Stream, Echo: r.Echo}
	if out.N, err = count(r.N); err != nil {
		return nil, err
	}
	if r.BestOf != nil && *r.BestOf != out.N {
		return nil, unsupported("best_of", "best_of other than n is not supported")
	}
	if r.Suffix != nil && *r.Suffix != "" {
		return nil, unsupported("suffix", "suffix (insertion) is not supported")
	}
	if out.IncludeUsage, err = includeUsage(r.Stream, r.StreamOptions); err != nil {
		return nil, err
	}
	opts, err := r.options(d)
	if err != nil {
		return nil, err
	}
	out.Logprobs = opts.Logprobs
	if out.Logprobs && r.Echo {
		return nil, unsupported("echo", "echo with logprobs is not supported: prompt logprobs are not computed")
	}
	model := r.Model
	if d.Model != "" {
		model = d.Model
	}
	for _, p := range prompts {
		out.Requests = append(out.Requests, engine.CompletionRequest{Model: model, Prompt: p, Options: opts})
	}
	return out, nil
}

// Choice is the engine request of choice i of prompt p.
func (c *Completion) Choice(p, i int) engine.CompletionRequest {
	r := c.Requests[p]
	r.Options = withSeed(r.Options, i)
	return r
}

func (r *CompletionRequest) options(d Defaults) (engine.GenOptions, error) {
	var o engine.GenOptions
	top := 0
	if r.Logprobs != nil {
		top = *r.Logprobs
		if top < 0 || top > MaxLegacyLogp {
			return o, paramErr("logprobs", "must be between 0 and %d, got %d", MaxLegacyLogp, top)
		}
		o.Logprobs = true
	}
	s := sampling{
		Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK, MinP: r.MinP,
		RepetitionPenalty: r.RepetitionPenalty, FrequencyPenalty: r.FrequencyPenalty,
		PresencePenalty: r.PresencePenalty, Seed: r.Seed, LogitBias: r.LogitBias,
		TopLogprobs: top, MaxTemperature: 2,
	}
	var err error
	if o.Sampling, err = s.params(d); err != nil {
		return o, err
	}
	if o.MaxTokens, err = maxTokens(nil, r.MaxTokens, d, legacyMaxTokens); err != nil {
		return o, err
	}
	if o.Stop, err = stopList(r.Stop, "stop"); err != nil {
		return o, err
	}
	if o.KeepAlive, err = keepAlive(r.KeepAlive, r.TTL, d); err != nil {
		return o, err
	}
	o.ContextSize = d.ContextLength
	return o, nil
}

// promptList reads prompt: a string or a list of strings. Token arrays are
// refused: the engine takes text.
func promptList(raw json.RawMessage) ([]string, error) {
	if !present(raw) {
		return nil, paramErr("prompt", "is required")
	}
	list, err := textList(raw, "prompt")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, paramErr("prompt", "at least one prompt is required")
	}
	return list, nil
}

// textList reads a string or a list of at most MaxInputs strings (prompt, input).
func textList(raw json.RawMessage, param string) ([]string, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, paramErr(param, "%v", err)
		}
		return []string{s}, nil
	}
	if raw[0] != '[' {
		return nil, typeErr(param, "a string or an array of strings", raw)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, paramErr(param, "%v", err)
	}
	if len(items) > MaxInputs {
		return nil, paramErr(param, "at most %d items, got %d", MaxInputs, len(items))
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		if it[0] != '"' {
			if it[0] == '[' || isNumber(it) {
				return nil, unsupportedValue(param, "token arrays are not supported: send text")
			}
			return nil, typeErr(fmt.Sprintf("%s[%d]", param, i), "a string", it)
		}
		var s string
		if err := json.Unmarshal(it, &s); err != nil {
			return nil, paramErr(fmt.Sprintf("%s[%d]", param, i), "%v", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// TextCompletion is the answer of a completions request, and each chunk of a
// streamed one.
type TextCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []TextChoice `json:"choices"`
	Usage             *Usage       `json:"usage,omitempty"`
}

// TextChoice is one completion.
type TextChoice struct {
	Text         string          `json:"text"`
	Index        int             `json:"index"`
	Logprobs     *LegacyLogprobs `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

// LegacyLogprobs are the completions API's logprobs: parallel lists per token.
type LegacyLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// NewTextCompletion starts a completions answer (or chunk) with meta.
func NewTextCompletion(m Meta, choices ...TextChoice) TextCompletion {
	if choices == nil {
		choices = []TextChoice{}
	}
	return TextCompletion{ID: m.ID, Object: "text_completion", Created: m.Created, Model: m.Model,
		SystemFingerprint: m.SystemFingerprint, Choices: choices}
}

// TextChoiceFrom converts a finished generation; with echo the prompt comes first.
func TextChoiceFrom(index int, prompt string, res *engine.Result, echo, logprobs bool) TextChoice {
	text, offset := res.Content, 0
	if echo {
		text, offset = prompt+res.Content, len(prompt)
	}
	reason := res.FinishReason
	ch := TextChoice{Text: text, Index: index, FinishReason: &reason}
	if logprobs {
		ch.Logprobs = legacyLogprobs(res.Logprobs, offset)
	}
	return ch
}

// TextChunk converts one streamed delta; ok is false when it carries nothing. offset
// is where the delta's text starts in the choice's text (byte offsets, as the
// text_offset of every token); it is advanced.
func TextChunk(index int, d engine.Delta, logprobs bool, offset *int) (c TextChoice, ok bool) {
	if d.Content == "" && len(d.Logprobs) == 0 {
		return TextChoice{}, false
	}
	c = TextChoice{Text: d.Content, Index: index}
	if logprobs {
		c.Logprobs = legacyLogprobs(d.Logprobs, *offset)
	}
	*offset += len(d.Content)
	return c, true
}

// legacyLogprobs lays token logprobs out as the completions API does, with
// text_offset counting bytes from start.
func legacyLogprobs(in []engine.TokenLogprob, start int) *LegacyLogprobs {
	lp := &LegacyLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	off := start
	for _, t := range in {
		lp.Tokens = append(lp.Tokens, tokenText(t.Bytes))
		lp.TokenLogprobs = append(lp.TokenLogprobs, float64(t.Logprob))
		top := map[string]float64{}
		for _, a := range t.Top {
			if _, seen := top[tokenText(a.Bytes)]; !seen {
				top[tokenText(a.Bytes)] = float64(a.Logprob)
			}
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
		lp.TextOffset = append(lp.TextOffset, off)
		off += len(t.Bytes)
	}
	return lp
}
