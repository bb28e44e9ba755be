// Package mistral registers MistralForCausalLM: the Llama layout without biases,
// with sliding-window attention when config.json sets sliding_window.
package mistral

import (
	"errors"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

// errMistralBias: HF's Mistral never uses biases, so a config asking for them
// describes some other model.
var errMistralBias = errors.New("mistral has no attention or mlp biases")

func init() {
	model.Register(model.Arch{Name: "MistralForCausalLM", Configure: configure, Build: llama.Build})
}

func configure(c *model.Config, _ []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	if c.AttentionBias || c.MLPBias {
		return errMistralBias
	}
	c.QKVBias, c.OBias, c.QKNorm = false, false, false
	return nil
}
