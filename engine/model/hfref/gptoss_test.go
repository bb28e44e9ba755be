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
		{DType: model.BF16, Stacked: true},
		{DType: model.F16, QuantBits: 8, GroupSize: 32, Stacked: true},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32, Stacked: true, Experts: 8, TopK: 4},
	} {
		form.Arch, form.Layers, form.Seed = "gptoss", 3, 41
		dir := modeltest.New(t, form)
		for name, nr := range executors {
			t.Run(form.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
		}
	}
}
