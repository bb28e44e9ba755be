package apitest

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// InstallCommit is the snapshot commit InstallModel writes.
const InstallCommit = "0123456789abcdef0123456789abcdef01234567"

// InstallModel writes a model into a models dir (root) as the Hugging Face
// cache holds it: write fills snapshots/<InstallCommit> with plain files (as
// tools that copy instead of linking leave them), and refs/main names it.
func InstallModel(tb testing.TB, root, id string, write func(dir string) error) {
	tb.Helper()
	repo := filepath.Join(root, "models--"+strings.ReplaceAll(id, "/", "--"))
	snap := filepath.Join(repo, "snapshots", InstallCommit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := write(snap); err != nil {
		tb.Fatalf("write %s: %v", id, err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(InstallCommit), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Quiet is a logger that drops everything, for engines and servers whose
// logs a test does not read.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// APIKey creates an API key named name for the holder of token and returns it.
func (s *Server) APIKey(tb testing.TB, token, name string) string {
	tb.Helper()
	var key struct {
		Key string `json:"key"`
	}
	s.JSON(tb, "POST", "/api/auth/api-keys", token, map[string]string{"name": name}, http.StatusCreated, &key)
	return key.Key
}
