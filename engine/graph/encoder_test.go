package graph

import (
	"context"
	"errors"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestRefusesEncoders: the graphs have no bidirectional attention, so an
// encoder is refused at load with the unsupported-architecture error rather
// than run causally.
func TestRefusesEncoders(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{Arch: "bert", Layers: 1})
	_, err := New(context.Background(), m, Options{})
	if !errors.Is(err, model.ErrUnsupportedArch) {
		t.Fatalf("New(bert) = %v, want ErrUnsupportedArch", err)
	}
}
