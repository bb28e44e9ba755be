//go:build !race

// Numeric checks that only compute: make test-norace runs them without the race
// detector, which made them ten to twenty times slower (350 s of CI time on two
// cores for the four conformance and reference suites) while the concurrency
// they touch is raced by the executors' own tests.

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
