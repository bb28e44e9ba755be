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
	"cpu":       func(m *model.Model) (model.Runner, error) { return cpu.New(m, cpu.Options{Threads: 2}) },
	"graph":     func(m *model.Model) (model.Runner, error) { return graph.New(context.Background(), m, graph.Options{}) },
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
