package openai

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/engine"
)

// Limits on list lengths and counts; larger requests get a 400 naming the field.
const (
	MaxMessages     = 10000
	MaxTools        = 128
	MaxStops        = 16
	MaxN            = 8
	MaxTopLogprobs  = 20
	MaxLegacyLogp   = 5 // the legacy completions "logprobs" integer, as OpenAI documents
	MaxInputs       = 2048
	MaxLogitBias    = 1024
	maxNameLen      = 64
	defaultTemp     = 1.0 // OpenAI's and Anthropic's default temperature
	legacyMaxTokens = 16  // OpenAI's default max_tokens for /v1/completions
)

// Defaults are what a profile sets for the requests that name it instead of a
// model. The zero value sets nothing.
type Defaults struct {
	Model         string // the model the profile runs; "" keeps the request's
	SystemPrompt  string // prepended when the request has no system message
	Temperature   *float64
	TopP          *float64
	MaxTokens     *int
	ContextLength int
	KeepAlive     *time.Duration
	ToolFormat    string // the model's tool-call format, when the profile overrides it
}

// sampling holds the sampling fields every endpoint shares, before validation.
type sampling struct {
	Temperature       *float64
	TopP              *float64
	TopK              *int
	MinP              *float64
	RepetitionPenalty *float64
	FrequencyPenalty  *float64
	PresencePenalty   *float64
	Seed              *int64
	LogitBias         map[string]float64
	TopLogprobs       int
	MaxTemperature    float64 // 2 for OpenAI, 1 for Anthropic
}

// params validates s and applies the profile's defaults. Ranges are OpenAI's; the
// engine checks them again, but naming the field is our job.
func (s sampling) params(d Defaults) (engine.SamplingParams, error) {
	p := engine.SamplingParams{Temperature: defaultTemp, TopLogprobs: s.TopLogprobs, Seed: s.Seed}
	if d.Temperature != nil {
		p.Temperature = *d.Temperature
	}
	if d.TopP != nil {
		p.TopP = *d.TopP
	}
	checks := []struct {
		name    string
		v       *float64
		lo, hi  float64
		dst     *float64
		openLow bool
	}{
		{"temperature", s.Temperature, 0, s.MaxTemperature, &p.Temperature, false},
		{"top_p", s.TopP, 0, 1, &p.TopP, false},
		{"min_p", s.MinP, 0, 1, &p.MinP, false},
		{"repetition_penalty", s.RepetitionPenalty, 0, 10, &p.RepetitionPenalty, true},
		{"frequency_penalty", s.FrequencyPenalty, -2, 2, &p.FrequencyPenalty, false},
		{"presence_penalty", s.PresencePenalty, -2, 2, &p.PresencePenalty, false},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		v := *c.v
		if math.IsNaN(v) || v < c.lo || v > c.hi || (c.openLow && v == c.lo) {
			lo := "["
			if c.openLow {
				lo = "("
			}
			return p, paramErr(c.name, "must be in %s%g, %g], got %g", lo, c.lo, c.hi, v)
		}
		*c.dst = v
	}
	// The engine reads top_p 0 as "not set"; OpenAI's top_p 0 keeps only the most
	// likely token, which is top_k 1.
	if s.TopP != nil && *s.TopP == 0 || s.TopP == nil && d.TopP != nil && *d.TopP == 0 {
		p.TopP, p.TopK = 1, 1
	}
	if s.TopK != nil {
		if *s.TopK < 0 {
			return p, paramErr("top_k", "must be >= 0, got %d", *s.TopK)
		}
		if p.TopK == 0 || *s.TopK < p.TopK {
			p.TopK = *s.TopK
		}
	}
	bias, err := logitBias(s.LogitBias)
	if err != nil {
		return p, err
	}
	p.LogitBias = bias
	return p, nil
}

func logitBias(in map[string]float64) (map[int32]float32, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > MaxLogitBias {
		return nil, paramErr("logit_bias", "at most %d entries, got %d", MaxLogitBias, len(in))
	}
	out := make(map[int32]float32, len(in))
	for k, v := range in {
		id, err := strconv.ParseInt(k, 10, 32)
		if err != nil || id < 0 {
			return nil, paramErr("logit_bias", "keys must be token ids, got %q", k)
		}
		if math.IsNaN(v) || v < -100 || v > 100 {
			return nil, paramErr("logit_bias", "bias for token %d must be in [-100, 100], got %g", id, v)
		}
		out[int32(id)] = float32(v)
	}
	return out, nil
}

// maxTokens picks the completion budget: max_completion_tokens, else max_tokens,
// else the profile's, else def (0: up to the end of the context).
func maxTokens(completion, legacy *int, d Defaults, def int) (int, error) {
	if completion != nil && legacy != nil && *completion != *legacy {
		return 0, paramErr("max_tokens", "max_tokens (%d) and max_completion_tokens (%d) disagree: send one", *legacy, *completion)
	}
	n, name := def, "max_tokens"
	switch {
	case completion != nil:
		n, name = *completion, "max_completion_tokens"
	case legacy != nil:
		n = *legacy
	case d.MaxTokens != nil:
		n = *d.MaxTokens
	}
	if (completion != nil || legacy != nil) && n < 1 {
		return 0, paramErr(name, "must be >= 1, got %d", n)
	}
	return max(n, 0), nil
}

// keepAlive reads Ollama's keep_alive (seconds as a number, or a duration string
// such as "5m"; negative keeps the model loaded forever, 0 unloads it at once) or
// the ttl extension (seconds), falling back to the profile's TTL.
func keepAlive(raw json.RawMessage, ttl *int, d Defaults) (*time.Duration, error) {
	if len(raw) > 0 && string(raw) != "null" {
		if ttl != nil {
			return nil, paramErr("ttl", "send keep_alive or ttl, not both")
		}
		dur, err := ollama.ParseKeepAlive(raw)
		if err != nil {
			return nil, paramErr("keep_alive", "%v", err)
		}
		return &dur, nil
	}
	if ttl != nil {
		dur := time.Duration(*ttl) * time.Second
		if *ttl < 0 {
			dur = -1
		}
		return &dur, nil
	}
	return d.KeepAlive, nil
}

// stopList parses stop: a string or a list of at most MaxStops non-empty strings.
func stopList(raw json.RawMessage, param string) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, paramErr(param, "%v", err)
		}
		list = []string{s}
	case '[':
		if err := decodeStrict(raw, param, &list); err != nil {
			return nil, err
		}
	default:
		return nil, typeErr(param, "a string or an array of strings", raw)
	}
	if len(list) > MaxStops {
		return nil, paramErr(param, "at most %d stop sequences, got %d", MaxStops, len(list))
	}
	for i, s := range list {
		if s == "" {
			return nil, paramErr(fmt.Sprintf("%s[%d]", param, i), "stop sequences must not be empty")
		}
	}
	return list, nil
}

// count checks n (choices per prompt): 1..MaxN, default 1.
func count(n *int) (int, error) {
	if n == nil {
		return 1, nil
	}
	if *n < 1 || *n > MaxN {
		return 0, paramErr("n", "must be between 1 and %d, got %d", MaxN, *n)
	}
	return *n, nil
}

// withSeed gives choice i of n its own reproducible seed: the same request with
// the same seed gives the same choices, and the choices differ from each other.
func withSeed(o engine.GenOptions, i int) engine.GenOptions {
	if o.Sampling.Seed != nil && i > 0 {
		s := *o.Sampling.Seed + int64(i)
		o.Sampling.Seed = &s
	}
	return o
}

// informational fields are accepted and ignored: they do not change the answer.
type informational struct {
	User             json.RawMessage `json:"user"`
	Metadata         json.RawMessage `json:"metadata"`
	Store            json.RawMessage `json:"store"`
	ServiceTier      json.RawMessage `json:"service_tier"`
	SafetyIdentifier json.RawMessage `json:"safety_identifier"`
	PromptCacheKey   json.RawMessage `json:"prompt_cache_key"`
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }
