package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// browserTimeout bounds the whole browser run: about a minute and a half on a
// loaded 2-core machine (load average 13), 40 s of it the tour of every page.
const browserTimeout = 240 * time.Second

// TestBrowser drives the web UI against the real daemon: sign-up and sign-in, local
// models, a Hub download watched to 100%, loading a model, a streamed chat, the chat
// request arriving live in the audit log, and approving a second user.
func TestBrowser(t *testing.T) {
	root := repoRoot(t)
	need := func(ok bool, why string) {
		t.Helper()
		if ok {
			return
		}
		if os.Getenv("MLX_MANAGER_E2E") == "1" {
			t.Fatal(why)
		}
		testenv.Need(t, false, why+" (MLX_MANAGER_E2E=1 makes this a failure)")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err := os.Stat(chromium)
	need(err == nil, "no Chromium at "+chromium+": apt-get install chromium")
	node, err := exec.LookPath("node")
	need(err == nil, "node is not installed")
	_, err = os.Stat(filepath.Join(root, "e2e", "node_modules", "playwright-core"))
	need(err == nil, "playwright-core is not installed: run npm ci in e2e/")
	_, err = os.Stat(filepath.Join(root, "assets", "ui", "dist", "index.html"))
	need(err == nil, "the web UI is not built: run make build")

	out := filepath.Join(root, "e2e", "test-output")
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	// make test passes the binary make build just made; otherwise build one.
	bin := os.Getenv("MLX_MANAGER_E2E_BIN")
	if bin == "" {
		bin = buildDaemon(t, root)
	}
	modelsDir, dataDir := t.TempDir(), t.TempDir()
	placeModel(t, modelsDir, localModel, localModelDir(t, root))
	placeModel(t, modelsDir, smallModel, modeltest.New(t, modeltest.Spec{Seed: 5, MaxPos: 256}))
	placeModel(t, modelsDir, baseModel, baseModelDir(t))
	placeModel(t, modelsDir, visionModel, modeltest.New(t, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 4, SlidingWindow: 512}))
	hub := fakeHub(t)
	d := startDaemon(t, bin, dataDir, modelsDir, hub.URL, filepath.Join(out, "daemon.log"))
	t.Logf("daemon at %s, fake Hub at %s", d.URL, hub.URL)

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "browser.mjs")
	cmd.Dir = filepath.Join(root, "e2e")
	cmd.Env = append(cleanEnv(),
		"E2E_URL="+d.URL, "E2E_OUT="+out, "E2E_CHROMIUM="+chromium,
		"E2E_LOCAL_MODEL="+localModel, "E2E_HUB_MODEL="+hubModel, "E2E_SMALL_MODEL="+smallModel, "E2E_BASE_MODEL="+baseModel,
		"E2E_PAUSE_MODEL="+pausedModel, "E2E_CANCEL_MODEL="+cancelModel,
		"E2E_VISION_MODEL="+visionModel,
		"E2E_PROFILE_DIR="+t.TempDir(),
	)
	cmd.WaitDelay = 5 * time.Second
	outBytes, err := cmd.CombinedOutput()
	t.Logf("browser run:\n%s", outBytes)
	if ctx.Err() != nil {
		t.Fatalf("browser run did not finish within %s", browserTimeout)
	}
	if err != nil {
		t.Fatalf("browser run failed: %v (screenshots and daemon.log in %s)", err, out)
	}
}
