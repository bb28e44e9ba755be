package model

import (
	"encoding/json"
	"fmt"
)

// GenerationConfig is generation_config.json, with Hugging Face's defaults for
// what it leaves out.
type GenerationConfig struct {
	BOSTokenID        int   // -1 when absent
	EOSTokenIDs       []int // stop on any of them
	DoSample          bool
	Temperature       float64 // default 1
	TopP              float64 // default 1
	TopK              int     // default 50
	MinP              float64 // default 0 (off)
	RepetitionPenalty float64 // default 1 (off)
	MaxLength         int     // 0 when absent
	MaxNewTokens      int     // 0 when absent
}

type rawGeneration struct {
	BOSTokenID        *int     `json:"bos_token_id"`
	EOSTokenID        tokenIDs `json:"eos_token_id"`
	DoSample          *bool    `json:"do_sample"`
	Temperature       *float64 `json:"temperature"`
	TopP              *float64 `json:"top_p"`
	TopK              *int     `json:"top_k"`
	MinP              *float64 `json:"min_p"`
	RepetitionPenalty *float64 `json:"repetition_penalty"`
	MaxLength         *int     `json:"max_length"`
	MaxNewTokens      *int     `json:"max_new_tokens"`
}

// DefaultGeneration is the generation config of a model without
// generation_config.json: HF's defaults plus the special tokens of config.json.
func DefaultGeneration(c *Config) *GenerationConfig {
	g := &GenerationConfig{BOSTokenID: -1, Temperature: 1, TopP: 1, TopK: 50, RepetitionPenalty: 1}
	if c != nil {
		g.BOSTokenID = c.BOSTokenID
		g.EOSTokenIDs = append([]int(nil), c.EOSTokenIDs...)
	}
	return g
}

// ParseGenerationConfig parses generation_config.json. Token ids it leaves out
// come from c (which may be nil).
func ParseGenerationConfig(data []byte, c *Config) (*GenerationConfig, error) {
	var r rawGeneration
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parse generation config: %w", err)
	}
	g := DefaultGeneration(c)
	if r.BOSTokenID != nil {
		g.BOSTokenID = *r.BOSTokenID
	}
	if r.EOSTokenID != nil {
		g.EOSTokenIDs = r.EOSTokenID
	}
	if r.DoSample != nil {
		g.DoSample = *r.DoSample
	}
	g.Temperature = floatOr(r.Temperature, g.Temperature)
	g.TopP = floatOr(r.TopP, g.TopP)
	g.TopK = intOr(r.TopK, g.TopK)
	g.MinP = floatOr(r.MinP, g.MinP)
	g.RepetitionPenalty = floatOr(r.RepetitionPenalty, g.RepetitionPenalty)
	g.MaxLength = intOr(r.MaxLength, 0)
	g.MaxNewTokens = intOr(r.MaxNewTokens, 0)
	if err := g.validate(c); err != nil {
		return nil, fmt.Errorf("parse generation config: %w", err)
	}
	return g, nil
}

func (g *GenerationConfig) validate(c *Config) error {
	switch {
	case !(g.Temperature >= 0):
		return fmt.Errorf("temperature is %g", g.Temperature)
	case !(g.TopP > 0 && g.TopP <= 1):
		return fmt.Errorf("top_p is %g, want (0, 1]", g.TopP)
	case g.TopK < 0:
		return fmt.Errorf("top_k is %d", g.TopK)
	case !(g.MinP >= 0 && g.MinP <= 1):
		return fmt.Errorf("min_p is %g, want [0, 1]", g.MinP)
	case !(g.RepetitionPenalty > 0):
		return fmt.Errorf("repetition_penalty is %g", g.RepetitionPenalty)
	case g.MaxLength < 0 || g.MaxNewTokens < 0:
		return fmt.Errorf("negative max_length or max_new_tokens")
	}
	for _, id := range append([]int{g.BOSTokenID}, g.EOSTokenIDs...) {
		if id < -1 || (c != nil && id >= c.VocabSize) {
			return fmt.Errorf("special token id %d is outside the vocabulary", id)
		}
	}
	return nil
}
