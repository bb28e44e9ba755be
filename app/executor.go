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
func newRunner(name string, log *slog.Logger) (engine.NewRunner, error) {
	switch name {
	case "", "cpu":
		return func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{})
		}, nil
	case "gomlx":
		return func(ctx context.Context, m *model.Model) (model.Runner, error) {
			return graph.New(ctx, m, graph.Options{Logger: log})
		}, nil
	}
	return nil, fmt.Errorf("unknown executor %q: want cpu or gomlx", name)
}
