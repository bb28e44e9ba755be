//go:build !race

// Numeric checks that only compute: make test-norace runs them without the race
// detector, which made them ten to twenty times slower (350 s of CI time on two
// cores for the four conformance and reference suites) while the concurrency
// they touch is raced by the executors' own tests.

package hfref_test

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/graph"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// executors are the runners every family is checked on.
var executors = map[string]hfref.NewRunner{
	"reference": func(m *model.Model) (model.Runner, error) { return reference.NewRunner(m), nil },
	"cpu": func(m *model.Model) (model.Runner, error) {
		return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true})
	},
	"graph": func(m *model.Model) (model.Runner, error) { return graph.New(context.Background(), m, graph.Options{}) },
}

// TestCheckLlama runs the harness on the family every executor already runs:
// it must pass there, in float and quantized forms, or the harness is wrong.
func TestCheckLlama(t *testing.T) {
	for _, s := range []modeltest.Spec{
		{Arch: "llama", Layers: 3, Seed: 8, AttentionBias: true, MLPBias: true},
		{Arch: "llama", Layers: 2, Seed: 8, DType: model.BF16, QuantBits: 4, GroupSize: 32},
		{Arch: "llama", Layers: 2, Seed: 8, DType: model.F16, QuantBits: 8, GroupSize: 64, RopeScaling: &model.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}},
	} {
		dir := modeltest.New(t, s)
		for name, nr := range executors {
			t.Run(s.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
		}
	}
}

// TestCheckQwen3: Qwen3ForCausalLM (per-head q and k norms), the decoder
// of Qwen3-Reranker and Qwen3-Embedding, agrees with modeling_qwen3.py.
func TestCheckQwen3(t *testing.T) {
	for _, s := range []modeltest.Spec{
		{Arch: "qwen3", Layers: 2, Seed: 12},
		{Arch: "qwen3", Layers: 2, Seed: 12, DType: model.BF16, QuantBits: 4, GroupSize: 32, Tied: true},
	} {
		dir := modeltest.New(t, s)
		for name, nr := range executors {
			t.Run(s.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
		}
	}
}

// familyLayers covers each family's alternating layer kinds.
var familyLayers = map[string]int{
	"gemma2": 3, "gemma3": 6, "gemma3mm": 6, "phi3": 3, "granite": 3, "olmo2": 3, "smollm3": 5,
}

// implemented are the families with a definition in engine/model/<family>.
var implemented = map[string]bool{"gemma2": true, "gemma3": true, "gemma3mm": true, "granite": true, "olmo2": true, "phi3": true, "smollm3": true}

// TestFamilies checks every family of issue #18 that has a definition on the
// executors that run definitions, in float and MLX-quantized storage, on a
// prompt longer than the sliding window.
func TestFamilies(t *testing.T) {
	forms := []modeltest.Spec{
		{DType: model.F32},
		{DType: model.BF16},
		{DType: model.F16, QuantBits: 8, GroupSize: 32},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32},
	}
	for _, arch := range modeltest.Families() {
		if !implemented[arch] {
			continue
		}
		for _, form := range forms {
			form.Arch, form.Layers, form.Seed = arch, familyLayers[arch], 21
			if arch == "smollm3" {
				form.SlidingWindow = 4 // its NoPE layers slide
			}
			dir := modeltest.New(t, form)
			for name, nr := range executors {
				t.Run(form.Name()+"/"+name, func(t *testing.T) { hfref.Check(t, dir, prompt, nr) })
			}
		}
	}
}
