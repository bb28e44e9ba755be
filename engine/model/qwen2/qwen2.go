// Package qwen2 registers Qwen2ForCausalLM (Qwen2 and Qwen2.5): the Llama layout
// with additive biases on the q, k and v projections (never on o).
package qwen2

import (
	"encoding/json"
	"errors"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

func init() {
	model.Register(model.Arch{Name: "Qwen2ForCausalLM", Configure: configure, Build: llama.Build})
}

func configure(c *model.Config, raw []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	if err := CheckSlidingWindow(c, raw); err != nil {
		return err
	}
	c.QKVBias, c.OBias, c.QKNorm = true, false, false
	c.MLPBias = false
	return nil
}

// CheckSlidingWindow applies Qwen's use_sliding_window flag. Qwen configs carry
// sliding_window even when it is off. When on, only layers from max_window_layers
// up slide, which the executors do not implement, so such a config is refused.
// Qwen3 shares the rule.
func CheckSlidingWindow(c *model.Config, raw []byte) error {
	var r struct {
		UseSlidingWindow bool `json:"use_sliding_window"`
	}
	_ = json.Unmarshal(raw, &r) // ParseConfig already decoded raw once
	if r.UseSlidingWindow {
		return errors.New("use_sliding_window is not supported")
	}
	c.SlidingWindow = 0
	return nil
}
