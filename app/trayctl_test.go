package app

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/app/tray"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// The adapter is the real daemon: a real pool loads and unloads a real (tiny) model.
var _ tray.Control = trayControl{}

func openTestDaemon(t *testing.T) *daemon {
	t.Helper()
	modelsDir := t.TempDir()
	writeCachedModel(t, modelsDir, "test/tiny", modeltest.Spec{Seed: 5})
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), ModelsDir: modelsDir, Headless: true, NoOpen: true}
	d, err := openDaemon(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.close() })
	return d
}

func TestTrayControlDrivesThePool(t *testing.T) {
	d := openTestDaemon(t)
	ctl := trayControl{engine: d.engine, store: d.store}
	ctx := context.Background()

	models, err := ctl.Models(ctx)
	if err != nil || len(models) != 1 || models[0].ID != "test/tiny" || !models[0].Supported {
		t.Fatalf("Models() = %+v, %v; want the supported test/tiny", models, err)
	}
	events, cancel := ctl.Subscribe()
	defer cancel()
	if err := ctl.Load(ctx, "test/tiny"); err != nil {
		t.Fatal(err)
	}
	st := ctl.Status()
	if len(st) != 1 || st[0].State != pool.StateReady || st[0].Pinned {
		t.Fatalf("after Load: %+v, want test/tiny ready and not pinned", st)
	}
	waitEvent(t, events, pool.KindReady)
	if err := ctl.Unload(ctx, "test/tiny"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, pool.KindUnloaded)
	if st := ctl.Status(); len(st) != 0 {
		t.Fatalf("after Unload: %+v", st)
	}
	if got := ctl.Downloads(); len(got) != 0 {
		t.Fatalf("Downloads() = %+v, want none", got)
	}
	if err := ctl.Load(ctx, "test/missing"); err == nil {
		t.Fatal("loading a model that is not in the models dir must fail")
	}
}

func waitEvent(t *testing.T, events <-chan engine.Event, k engine.ModelEventKind) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Topic == engine.TopicModel && ev.Model.Kind == k {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event", k)
		}
	}
}

func TestTrayControlCountsPendingUsers(t *testing.T) {
	d := openTestDaemon(t)
	ctl := trayControl{engine: d.engine, store: d.store}
	if n, err := ctl.PendingUsers(); err != nil || n != 0 {
		t.Fatalf("PendingUsers() = %d, %v; want 0", n, err)
	}
	changed, cancel := ctl.UsersChanged()
	defer cancel()
	for _, email := range []string{"admin@example.com", "new@example.com"} { // the first account is the approved admin
		if _, err := d.store.Users().Create(email, "hash"); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no change signalled for the new accounts")
	}
	if n, err := ctl.PendingUsers(); err != nil || n != 1 {
		t.Fatalf("PendingUsers() = %d, %v; want the new account", n, err)
	}
	if got := ctl.Downloads(); len(got) != 0 {
		t.Fatalf("Downloads() before any download = %+v", got)
	}
}

// syncBuffer is a log destination the test can read while the daemon writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
