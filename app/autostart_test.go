package app

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

// writeCachedModel puts a tiny generated model into models dir in the Hugging Face
// cache layout, as a download would leave it.
func writeCachedModel(t *testing.T, modelsDir, repo string, spec modeltest.Spec) {
	t.Helper()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	base := filepath.Join(modelsDir, "models--"+filepath.Dir(repo)+"--"+filepath.Base(repo))
	snap := filepath.Join(base, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(snap, spec); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(base, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAutoStartProfilesAreLoadedAndPinned(t *testing.T) {
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	writeCachedModel(t, modelsDir, "test/tiny", modeltest.Spec{Seed: 3})
	writeCachedModel(t, modelsDir, "test/other", modeltest.Spec{Seed: 4})
	st, err := store.Open(dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []store.Profile{
		{Name: "always", Model: "test/tiny", AutoStart: true},
		{Name: "manual", Model: "test/other"},
	} {
		if _, err := st.Profiles().Create(p); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dataDir, ModelsDir: modelsDir, Headless: true, NoOpen: true}
	d, err := openDaemon(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Subscribed before the jobs start, so the load's events cannot be missed.
	events, cancel := d.engine.Subscribe()
	defer cancel()
	d.startJobs()
	defer d.close()
	timeout := time.After(20 * time.Second)
	for {
		st := d.engine.Status()
		if len(st) == 1 && st[0].ID == "test/tiny" && st[0].State == pool.StateReady {
			if !st[0].Pinned {
				t.Fatal("an auto-started profile's model must be pinned")
			}
			return
		}
		select {
		case <-events:
		case <-timeout:
			t.Fatalf("auto_start profile not loaded: %+v", st)
		}
	}
}
