package app

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/store"
)

// TestDaemonStartsWithLocalFolders: the folders registered in the store
// (POST /api/models/local) are loadable after a restart, under their names.
func TestDaemonStartsWithLocalFolders(t *testing.T) {
	folder := filepath.Join(t.TempDir(), "conv")
	writeTiny(t, folder, modeltest.Spec{Seed: 6})
	resolved, err := engine.CheckLocalFolder(folder)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), ModelsDir: t.TempDir(), Headless: true, NoOpen: true}
	d, err := openDaemon(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.LocalModels().Add(store.LocalModel{Name: "local/conv", Path: resolved}); err != nil {
		t.Fatal(err)
	}
	if err := d.close(); err != nil {
		t.Fatal(err)
	}

	d, err = openDaemon(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	ctx := context.Background()
	if err := d.engine.Load(ctx, "local/conv", engine.LoadOptions{}); err != nil {
		t.Fatalf("load the registered folder after a restart: %v", err)
	}
	info, err := d.engine.Model(ctx, "local/conv")
	if err != nil || info.Path != resolved || !info.Loaded {
		t.Errorf("Model(local/conv) = %+v, %v", info, err)
	}
}
