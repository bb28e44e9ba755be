package graph

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

func TestConformance(t *testing.T) {
	enginetest.RunAll(t, func(m *model.Model) (model.Runner, error) {
		return New(context.Background(), m, Options{Backend: "go"})
	})
}
