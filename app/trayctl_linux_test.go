package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginItemRunsServe checks the XDG autostart path, which only Linux has.
func TestLoginItemRunsServe(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	it := loginItem(slog.New(slog.DiscardHandler))
	if it == nil {
		t.Fatal("no login item on linux")
	}
	if want := filepath.Join(cfg, "autostart", "mlx-manager.desktop"); it.Path() != want {
		t.Fatalf("path %s, want %s", it.Path(), want)
	}
	if err := it.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(it.Path())
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	if !strings.Contains(string(b), "Exec="+exe+" serve --no-open\n") {
		t.Fatalf("desktop entry does not start this program's serve:\n%s", b)
	}
}
