// Package llama registers LlamaForCausalLM: Llama 2, Llama 3 and 3.x (with
// llama3 rope scaling), SmolLM2, TinyLlama and the many fine-tunes sharing the
// layout. attention_bias adds biases to q, k, v and o; mlp_bias to the MLP.
package llama

import "github.com/mlx-manager/mlx-manager/engine/model"

func init() {
	model.Register(model.Arch{Name: "LlamaForCausalLM", Configure: configure, Names: model.HFNames})
}

func configure(c *model.Config, _ []byte) error {
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = false
	c.SlidingWindow = 0 // Llama attends to the whole context
	return nil
}
