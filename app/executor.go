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

// newRunner picks the executor: the native CPU one by default (several times faster
// than gomlx's pure-Go backend), gomlx when asked for (XLA where its plugin is installed).
// kv is the CPU executor's KV cache precision: "f16", "f32" or "" (its default).
func newRunner(name, kv string, log *slog.Logger) (engine.NewRunner, error) {
	// The daemon's logger, so "cpu runner ready" is one of its structured lines.
	opts := cpu.Options{KVF16: kv == "f16", KVF32: kv == "f32", Logger: log}
	switch kv {
	case "", "f16", "f32":
	default:
		return nil, fmt.Errorf("kv cache %q: want f16 or f32", kv)
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
