// Package qwen3 registers Qwen3ForCausalLM: the Llama layout plus a per-head
// RMSNorm on q and k (q_norm, k_norm, weights of head_dim) applied before RoPE;
// attention_bias adds biases to q, k, v and o.
package qwen3

import (
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/qwen2"
)

func init() {
	model.Register(model.Arch{Name: "Qwen3ForCausalLM", Configure: configure, Build: llama.Build})
}

func configure(c *model.Config, raw []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	if err := qwen2.CheckSlidingWindow(c, raw); err != nil {
		return err
	}
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = true
	c.MLPBias = false
	return nil
}
