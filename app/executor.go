package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mlx-manager/mlx-manager/app/config"
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
	if err := config.CheckPrecision(p.KV, p.Activations, p.Prefill); err != nil {
		return nil, err
	}
	switch p.Prefill {
	case "", "bf16":
		opts.BF16Prefill = true
	case "int8":
		opts.BF16Prefill, opts.Int8Prefill = true, true
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
