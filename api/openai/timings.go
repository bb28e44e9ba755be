package openai

import (
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Timings is llama-server's "timings" of a non-streamed chat completion: what
// llama.cpp tools and benchmarks read for prompt and generation speed.
type Timings struct {
	CacheN              int     `json:"cache_n"` // prompt tokens reused from the previous request's cache
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PromptPerTokenMS    float64 `json:"prompt_per_token_ms"`
	PromptPerSecond     float64 `json:"prompt_per_second"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
	PredictedPerSecond  float64 `json:"predicted_per_second"`
}

// TimingsFrom sums the timings of a request's results (one per choice): the
// prompt phase is each result's time to first token, the rest is generation.
func TimingsFrom(results []*engine.Result) *Timings {
	var t Timings
	var prompt, predicted time.Duration
	for _, r := range results {
		t.CacheN += r.Usage.CachedTokens
		t.PromptN += r.Usage.PromptTokens - r.Usage.CachedTokens
		t.PredictedN += r.Usage.CompletionTokens
		prompt += r.TTFT
		predicted += max(r.Duration-r.TTFT, 0)
	}
	t.PromptMS, t.PromptPerTokenMS, t.PromptPerSecond = rates(prompt, t.PromptN)
	t.PredictedMS, t.PredictedPerTokenMS, t.PredictedPerSecond = rates(predicted, t.PredictedN)
	return &t
}

func rates(d time.Duration, n int) (ms, perToken, perSecond float64) {
	ms = float64(d) / float64(time.Millisecond)
	if n > 0 && d > 0 {
		perToken = ms / float64(n)
		perSecond = float64(n) / d.Seconds()
	}
	return ms, perToken, perSecond
}
