package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// The retention job prunes once at start, then on every tick, and returns when
// its context ends.
func TestRunAuditRetention(t *testing.T) {
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	old := clock.Now()
	for range 3 {
		if _, err := st.Audit().Append(store.AuditEvent{Action: "auth.login", Time: old}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(31 * 24 * time.Hour)
	if _, err := st.Audit().Append(store.AuditEvent{Action: "auth.login"}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runAuditRetention(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour)
	}()
	waitCount(t, st, 1) // the run at start, long before the first tick

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("retention job did not stop")
	}

	// With a short interval the ticks keep pruning.
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() {
		defer close(done)
		runAuditRetention(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)), 10*time.Millisecond)
	}()
	clock.Advance(31 * 24 * time.Hour)
	waitCount(t, st, 0)
	cancel()
	<-done
}

func waitCount(t *testing.T, st *store.Store, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := st.Audit().Count()
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d audit events, want %d", n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func serveConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse("serve", []string{"--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--models-dir", filepath.Join(dir, "models"), "--headless", "--no-open"},
		func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestServeRefusesWeakJWTSecret(t *testing.T) {
	for _, secret := range []string{"short", "changeme-changeme-changeme-changeme"} {
		cfg := serveConfig(t, map[string]string{"MLX_MANAGER_JWT_SECRET": secret})
		err := Serve(context.Background(), cfg, io.Discard, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "MLX_MANAGER_JWT_SECRET") {
			t.Fatalf("secret %q: err = %v, want a refusal naming the variable", secret, err)
		}
	}
}

func TestServeKeepsGeneratedJWTSecret(t *testing.T) {
	cfg := serveConfig(t, nil)
	secretFile := filepath.Join(cfg.DataDir, "jwt-secret")
	run := func() []byte {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		errc := make(chan error, 1)
		go func() { errc <- Serve(ctx, cfg, io.Discard, io.Discard, ready) }()
		select {
		case <-ready:
		case err := <-errc:
			t.Fatalf("serve: %v", err)
		}
		b, err := os.ReadFile(secretFile)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(secretFile); st.Mode().Perm() != 0o600 {
			t.Fatalf("jwt-secret mode %o, want 600", st.Mode().Perm())
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("serve: %v", err)
		}
		return b
	}
	first, second := run(), run()
	if len(first) < 32 || string(first) != string(second) {
		t.Fatalf("secret changed across restarts or too short: %q vs %q", first, second)
	}
}
