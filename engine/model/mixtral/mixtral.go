// Package mixtral registers MixtralForCausalLM: Mistral's attention (no
// biases, an optional sliding window over every layer) with a sparse mixture
// of experts on every layer, block_sparse_moe.gate routing to
// num_experts_per_tok of num_local_experts experts.N.{w1,w3,w2} (gate, up,
// down), their softmax weights always renormalised over the selected ones;
// mlx-lm stores the experts stacked as block_sparse_moe.switch_mlp.*.
package mixtral

import (
	"encoding/json"
	"errors"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/qwen3moe"
)

func init() {
	model.Register(model.Arch{Name: "MixtralForCausalLM", Configure: configure, Build: qwen3moe.Build})
}

// names: w1 is the gate, w3 the up and w2 the down projection
// (MixtralBlockSparseTop2MLP: w2(act(w1(x)) * w3(x))).
var names = qwen3moe.Names{Block: "block_sparse_moe.", Router: "gate", Expert: [3]string{"w1", "w3", "w2"},
	Switch: [3]string{"gate_proj", "up_proj", "down_proj"}}

type rawMixtral struct {
	NumLocalExperts  *int `json:"num_local_experts"`
	NumExpertsPerTok *int `json:"num_experts_per_tok"`
}

// configure reads MixtralConfig's keys with its defaults (8 experts, 2 per
// token); each expert is intermediate_size wide.
func configure(c *model.Config, raw []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	if c.AttentionBias || c.MLPBias {
		return errors.New("mixtral has no attention or mlp biases")
	}
	var r rawMixtral
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	s := &qwen3moe.Sparse{Experts: 8, TopK: 2, Inter: c.IntermediateSize, NormTopK: true, Names: names}
	if r.NumLocalExperts != nil {
		s.Experts = *r.NumLocalExperts
	}
	if r.NumExpertsPerTok != nil {
		s.TopK = *r.NumExpertsPerTok
	}
	s.MoELayers = make([]bool, c.NumHiddenLayers)
	for l := range s.MoELayers {
		s.MoELayers[l] = true
	}
	c.QKVBias, c.OBias, c.QKNorm = false, false, false
	c.Family = s
	return s.Check(c)
}
