//go:build !race

package hfref_test

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestMoEFamilies checks Qwen3-MoE and Mixtral on every executor against the
// oracle, in float and MLX-quantized storage, with the experts per expert
// (transformers) and stacked (mlx-lm's switch_mlp). The Qwen3-MoE forms cover
// norm_topk_prob both ways and dense layers among sparse ones
// (decoder_sparse_step, mlp_only_layers).
func TestMoEFamilies(t *testing.T) {
	forms := []modeltest.Spec{
		{DType: model.F32},
		{DType: model.BF16, Stacked: true},
		{DType: model.F16, QuantBits: 8, GroupSize: 32},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32, Stacked: true},
		{DType: model.F32, QuantBits: 4, GroupSize: 64},
	}
	for _, arch := range modeltest.MoEFamilies() {
		for i, form := range forms {
			form.Arch, form.Layers, form.Seed = arch, 3, 31
			if arch == "qwen3moe" {
				form.NormTopK = i%2 == 1
				if i == 2 {
					form.SparseStep, form.MLPOnly = 2, []int{2}
				}
			} else if i == 4 {
				form.SlidingWindow = 4
			}
			dir := modeltest.New(t, form)
			for name, nr := range executors {
				t.Run(form.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
			}
		}
	}
}

// TestMoERouterTies: with equal router logits across the top-k boundary on
// every token, each executor picks the lower-indexed experts, as torch.topk
// does in transformers.
func TestMoERouterTies(t *testing.T) {
	for _, form := range []modeltest.Spec{
		{Arch: "qwen3moe", Layers: 2, Seed: 3, RouterTies: true},
		{Arch: "mixtral", Layers: 2, Seed: 3, RouterTies: true, DType: model.BF16, QuantBits: 8, GroupSize: 32, Stacked: true},
	} {
		dir := modeltest.New(t, form)
		for name, nr := range executors {
			t.Run(form.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
		}
	}
}
