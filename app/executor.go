package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/graph"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// precision is what the CPU executor may round, each "" for its default.
type precision struct {
	KV          string // the KV cache: "f16" (default with SIMD kernels) or "f32"
	Activations string // the input of Q8/Q4 products: "int16" (default where the kernels have it) or "f32"
	Prefill     string // the input of prompt products with 4-bit weights: "f32" (default) or "int8"
}

// newRunner picks the executor: the native CPU one by default (several times faster
// than gomlx's pure-Go backend), gomlx when asked for (XLA where its plugin is installed).
func newRunner(name string, p precision, log *slog.Logger) (engine.NewRunner, error) {
	// The daemon's logger, so "cpu runner ready" is one of its structured lines.
	opts := cpu.Options{KVF16: p.KV == "f16", KVF32: p.KV == "f32", FloatActivations: p.Activations == "f32", Logger: log}
	switch p.KV {
	case "", "f16", "f32":
	default:
		return nil, fmt.Errorf("kv cache %q: want f16 or f32", p.KV)
	}
	switch p.Activations {
	case "", "int16", "f32":
	default:
		return nil, fmt.Errorf("activations %q: want int16 or f32", p.Activations)
	}
	switch p.Prefill {
	case "f32":
	case "", "bf16":
		opts.BF16Prefill = true
	case "int8":
		opts.BF16Prefill, opts.Int8Prefill = true, true
	default:
		return nil, fmt.Errorf("prefill activations %q: want bf16, f32 or int8", p.Prefill)
	}
	switch name {
	case "", "cpu":
		return func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, opts)
		}, nil
	case "gomlx":
		return func(ctx context.Context, m *model.Model) (model.Runner, error) {
			return graph.New(ctx, m, graph.Options{Logger: log})
		}, nil
	}
	return nil, fmt.Errorf("unknown executor %q: want cpu or gomlx", name)
}
