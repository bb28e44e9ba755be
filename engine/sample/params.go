package sample

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidParams is wrapped by every validation error, so callers (the API layer)
// can turn it into a 400 without parsing messages.
var ErrInvalidParams = errors.New("invalid sampling parameters")

// Params configures one Sampler. The zero value is greedy decoding with no penalties.
//
// Zero means "off" for every field, which is why TopP, MinP and RepetitionPenalty
// treat 0 as "not set" (1.0 for TopP and RepetitionPenalty) rather than as a value.
type Params struct {
	// Temperature divides the logits before sampling; 0 is exact greedy decoding
	// (argmax, ties broken towards the lowest id). Range [0, 2].
	Temperature float64
	// TopK keeps only the K most likely tokens; 0 disables it.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability mass
	// reaches TopP. Range (0, 1]; 0 means not set (same as 1).
	TopP float64
	// MinP drops tokens whose probability is below MinP times that of the most
	// likely token. Range [0, 1]; 0 disables it.
	MinP float64
	// RepetitionPenalty is the Hugging Face penalty over every seen token (prompt
	// and generated): positive logits are divided by it, negative ones multiplied.
	// Must be > 0 (at most 10); 0 means not set (same as 1).
	RepetitionPenalty float64
	// FrequencyPenalty and PresencePenalty are OpenAI's: over generated tokens,
	// logit -= count*FrequencyPenalty + (count > 0)*PresencePenalty. Range [-2, 2].
	FrequencyPenalty float64
	PresencePenalty  float64
	// Seed makes sampling reproducible; nil draws a random seed.
	Seed *int64
	// LogitBias is added to the logits of the given token ids. Range [-100, 100]
	// per entry, as OpenAI documents; ids must be inside the vocabulary.
	LogitBias map[int32]float32
	// TopLogprobs is how many most likely alternatives to report per token. Range [0, 20].
	TopLogprobs int
}

// Validate checks the ranges that do not depend on the vocabulary.
func (p Params) Validate() error {
	checks := []struct {
		name   string
		v      float64
		lo, hi float64
		loOpen bool
	}{
		{"temperature", p.Temperature, 0, 2, false},
		{"top_p", p.TopP, 0, 1, false},
		{"min_p", p.MinP, 0, 1, false},
		{"repetition_penalty", p.RepetitionPenalty, 0, 10, false},
		{"frequency_penalty", p.FrequencyPenalty, -2, 2, false},
		{"presence_penalty", p.PresencePenalty, -2, 2, false},
	}
	for _, c := range checks {
		if math.IsNaN(c.v) || c.v < c.lo || c.v > c.hi {
			return fmt.Errorf("%w: %s must be in [%g, %g], got %g", ErrInvalidParams, c.name, c.lo, c.hi, c.v)
		}
	}
	if p.TopK < 0 {
		return fmt.Errorf("%w: top_k must be >= 0, got %d", ErrInvalidParams, p.TopK)
	}
	if p.TopLogprobs < 0 || p.TopLogprobs > 20 {
		return fmt.Errorf("%w: top_logprobs must be in [0, 20], got %d", ErrInvalidParams, p.TopLogprobs)
	}
	for id, b := range p.LogitBias {
		if math.IsNaN(float64(b)) || b < -100 || b > 100 {
			return fmt.Errorf("%w: logit_bias for token %d must be in [-100, 100], got %g", ErrInvalidParams, id, b)
		}
	}
	return nil
}

// validateVocab checks what needs the vocabulary size.
func (p Params) validateVocab(vocab int) error {
	if vocab <= 0 {
		return fmt.Errorf("%w: vocabulary size must be positive, got %d", ErrInvalidParams, vocab)
	}
	for id := range p.LogitBias {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("%w: logit_bias token %d outside vocabulary of %d", ErrInvalidParams, id, vocab)
		}
	}
	return nil
}
