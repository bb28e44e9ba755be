package api

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// TestLostBackendKeyFile: a replaced key file costs the backends their keys, not
// the daemon its start.
func TestLostBackendKeyFile(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenDir(t, dir, store.Options{})
	key := "sk-secret-0123456789"
	if _, err := st.Backends().Put(store.Backend{Name: "gpu", Kind: "openai", BaseURL: "http://gpu:8000/v1"}, &key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, store.BackendKeyFile), make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("New with an unreadable backend key: %v", err)
	}
	if _, ok := s.router.Status("gpu"); !ok {
		t.Error("the backend was not loaded")
	}
}
