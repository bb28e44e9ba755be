package model

import (
	"errors"
	"fmt"
	"math"
)

// Validate checks that the config describes a model the executors can run.
// Errors wrap ErrInvalidConfig and name the offending field.
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return nil
}

func (c *Config) validate() error {
	dims := []struct {
		name string
		v    int
		max  int
	}{
		{"hidden_size", c.HiddenSize, maxHidden},
		{"intermediate_size", c.IntermediateSize, maxInter},
		{"num_hidden_layers", c.NumHiddenLayers, maxLayers},
		{"num_attention_heads", c.NumAttentionHeads, maxHeads},
		{"num_key_value_heads", c.NumKeyValueHeads, maxHeads},
		{"head_dim", c.HeadDim, maxHeadDim},
		{"vocab_size", c.VocabSize, maxVocab},
		{"max_position_embeddings", c.MaxPositionEmbeddings, maxPosition},
	}
	for _, d := range dims {
		if d.v <= 0 || d.v > d.max {
			return fmt.Errorf("%s is %d, want 1..%d", d.name, d.v, d.max)
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d is odd: rotary embeddings rotate pairs", c.HeadDim)
	}
	if !(c.RMSNormEps > 0 && c.RMSNormEps < 1) {
		return fmt.Errorf("rms_norm_eps is %g, want a small positive number", c.RMSNormEps)
	}
	if !(c.RopeTheta > 1) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rope_theta is %g, want a finite number above 1", c.RopeTheta)
	}
	if c.SlidingWindow < 0 {
		return fmt.Errorf("sliding_window is %d", c.SlidingWindow)
	}
	switch c.TorchDType {
	case "", "float32", "float16", "bfloat16":
	default:
		return fmt.Errorf("torch_dtype %q is not supported", c.TorchDType)
	}
	for _, id := range append([]int{c.BOSTokenID}, c.EOSTokenIDs...) {
		if id < -1 || id >= c.VocabSize {
			return fmt.Errorf("special token id %d is outside the vocabulary of %d", id, c.VocabSize)
		}
	}
	if err := c.RopeScaling.validate(); err != nil {
		return err
	}
	return c.Quantization.validate()
}

func (r *RopeScaling) validate() error {
	if r == nil {
		return nil
	}
	if !(r.Factor >= 1) || math.IsInf(r.Factor, 0) {
		return fmt.Errorf("rope_scaling factor is %g, want ≥ 1", r.Factor)
	}
	if r.Type == "longrope" {
		for _, f := range append(append([]float64(nil), r.ShortFactor...), r.LongFactor...) {
			if !(f > 0) || math.IsInf(f, 0) {
				return fmt.Errorf("rope_scaling longrope factor %g, want a positive number", f)
			}
		}
		return nil
	}
	if r.Type == "yarn" {
		if r.OriginalMaxPositionEmbeddings <= 0 || r.OriginalMaxPositionEmbeddings > maxPosition {
			return fmt.Errorf("rope_scaling original_max_position_embeddings is %d", r.OriginalMaxPositionEmbeddings)
		}
		if !(r.BetaFast > 0 && r.BetaSlow > 0) || math.IsInf(r.BetaFast, 0) || math.IsInf(r.BetaSlow, 0) {
			return fmt.Errorf("rope_scaling yarn beta_fast %g, beta_slow %g, want positive numbers", r.BetaFast, r.BetaSlow)
		}
		return nil
	}
	if r.Type != "llama3" {
		return nil
	}
	if !(r.LowFreqFactor > 0 && r.HighFreqFactor > r.LowFreqFactor) || math.IsInf(r.HighFreqFactor, 0) {
		return errors.New("rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor")
	}
	if r.OriginalMaxPositionEmbeddings <= 0 || r.OriginalMaxPositionEmbeddings > maxPosition {
		return fmt.Errorf("rope_scaling original_max_position_embeddings is %d", r.OriginalMaxPositionEmbeddings)
	}
	return nil
}
