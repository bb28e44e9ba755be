package modeltest

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all" // Open needs every architecture
)

// New writes the model of spec into a fresh temporary directory and returns it.
func New(t testing.TB, spec Spec) string {
	t.Helper()
	dir := t.TempDir()
	if err := Write(dir, spec); err != nil {
		t.Fatalf("write model %s: %v", spec.Name(), err)
	}
	return dir
}

// Open writes the model of spec and opens it; it is closed when the test ends.
func Open(t testing.TB, spec Spec) *model.Model {
	t.Helper()
	m, err := model.Open(context.Background(), New(t, spec))
	if err != nil {
		t.Fatalf("open model %s: %v", spec.Name(), err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}
