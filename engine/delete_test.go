package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// installTiny puts a tiny model in e's models dir as id, as the Hub's cache holds it.
func installTiny(t *testing.T, e *Engine, id string) {
	t.Helper()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	repo := filepath.Join(e.cache.Root, "models--"+filepath.Base(filepath.Dir(id))+"--"+filepath.Base(id))
	if err := os.MkdirAll(filepath.Join(repo, "snapshots", commit), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(filepath.Join(repo, "snapshots", commit), modeltest.Spec{Seed: 2}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteModel(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	installTiny(t, e, "test/a")

	if _, err := e.DeleteModel(ctx, "../etc"); !errors.Is(err, hub.ErrInvalidRepoID) {
		t.Errorf("a folder: %v, want ErrInvalidRepoID", err)
	}

	// Serving a request: refused, and the model stays loaded and on disk.
	release, err := e.Hold(ctx, "test/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteModel(ctx, "test/a"); !errors.Is(err, ErrBusy) {
		t.Errorf("busy model: %v, want ErrBusy", err)
	}
	if _, err := e.cache.Model("test/a"); err != nil {
		t.Errorf("a refused delete removed the files: %v", err)
	}
	release()

	// While a deletion runs, the model cannot be loaded back.
	if !e.deleting.begin("test/a") {
		t.Fatal("no deletion should run")
	}
	if _, err := e.DeleteModel(ctx, "test/a"); !errors.Is(err, ErrBusy) {
		t.Errorf("second deletion: %v, want ErrBusy", err)
	}
	if err := e.Unload(ctx, "test/a", UnloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Load(ctx, "test/a", LoadOptions{}); !errors.Is(err, pool.ErrBusy) {
		t.Errorf("load during a deletion: %v, want ErrBusy", err)
	}
	e.deleting.end("test/a")

	// Loaded and idle: unloaded, then deleted.
	if err := e.Load(ctx, "test/a", LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := e.DeleteModel(ctx, "test/a")
	if err != nil || !res.Unloaded || res.FreedBytes <= 0 || res.Model != "test/a" {
		t.Fatalf("delete = %+v, %v", res, err)
	}
	if len(e.Status()) != 0 {
		t.Errorf("still in memory: %+v", e.Status())
	}
	if _, err := e.cache.Model("test/a"); !errors.Is(err, hub.ErrNotCached) {
		t.Errorf("files left: %v", err)
	}
	if _, err := e.DeleteModel(ctx, "test/a"); !errors.Is(err, hub.ErrNotCached) {
		t.Errorf("deleting it again: %v, want ErrNotCached", err)
	}
}

// TestFoldersOnlyWhenAsked: a server's engine (Folders off) refuses a folder
// path as a model id for every operation that takes one, so no request can
// make it open an arbitrary folder; the CLI's engine takes it.
func TestFoldersOnlyWhenAsked(t *testing.T) {
	dir := tinyModel(t)
	server, err := New(Options{ModelsDir: t.TempDir(), Logger: newTestEngine(t).log,
		NewRunner: newTestEngine(t).newRunner, Pool: pool.Config{BudgetBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ctx := context.Background()
	for _, id := range []string{dir, "./x", "/etc", "~/models/x", "a/b/c"} {
		if _, err := server.Model(ctx, id); !errors.Is(err, ErrModelNotFound) {
			t.Errorf("Model(%q): %v, want ErrModelNotFound", id, err)
		}
		if err := server.Load(ctx, id, LoadOptions{}); !errors.Is(err, ErrModelNotFound) {
			t.Errorf("Load(%q): %v, want ErrModelNotFound", id, err)
		}
		if _, err := server.Chat(ctx, ChatRequest{Model: id, Messages: []Message{{Role: "user", Content: "hi"}}}, nil); !errors.Is(err, ErrModelNotFound) {
			t.Errorf("Chat(%q): %v, want ErrModelNotFound", id, err)
		}
	}
	cli := newTestEngine(t) // Folders on
	if _, err := cli.Model(ctx, dir); err != nil {
		t.Errorf("the CLI's engine refuses a folder: %v", err)
	}
}
