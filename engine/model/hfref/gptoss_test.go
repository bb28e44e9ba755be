//go:build !race

package hfref_test

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestGptOss checks GptOssForCausalLM on every executor against the oracle,
// on a prompt longer than the sliding window (4) so that the sliding and
// full layers differ: transformers' fused experts in float, and mlx-lm's
// stacked experts in float and MLX-quantized storage. Every form has sinks,
// biases, YaRN (the real rope_scaling) and clamped experts.
func TestGptOss(t *testing.T) {
	for _, form := range []modeltest.Spec{
		{DType: model.F32},
		{DType: model.BF16, QuantMode: "mxfp4"}, // the MXFP4 release's _blocks and _scales
		{DType: model.BF16, Stacked: true},
		{DType: model.F16, QuantBits: 8, GroupSize: 32, Stacked: true},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32, Stacked: true, Experts: 8, TopK: 4},
		// MLX's mxfp4 mode on every layer but the routers, kept at 8-bit
		// affine as mlx-lm's quant_predicate for GPT-OSS does.
		{DType: model.BF16, QuantBits: 4, QuantMode: "mxfp4", Stacked: true, QuantOverrides: map[string]*model.Quant{
			"model.layers.0.mlp.router": {Bits: 8, GroupSize: 32}, "model.layers.1.mlp.router": {Bits: 8, GroupSize: 32},
			"model.layers.2.mlp.router": {Bits: 8, GroupSize: 32}}},
	} {
		form.Arch, form.Layers, form.Seed = "gptoss", 3, 41
		dir := modeltest.New(t, form)
		for name, nr := range executors {
			t.Run(form.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
		}
	}
}
