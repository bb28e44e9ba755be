package pool

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestLoadFailureThenRetry(t *testing.T) {
	f := newFakeLoader()
	f.failLoads["m"] = 1
	p, _ := newTestPool(t, Config{}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	_, err := p.Acquire(context.Background(), "m", AcquireOptions{})
	if !errors.Is(err, errBroken) {
		t.Fatalf("acquire: %v, want the loader's error", err)
	}
	if ev := waitEvent(t, events, KindError, "m"); ev.Err != err.Error() {
		t.Errorf("error event %q, want %q", ev.Err, err)
	}
	if _, ok := statusOf(p, "m"); ok {
		t.Fatal("a failed model stays in the pool")
	}
	mustAcquire(t, p, "m").Release()
	waitEvent(t, events, KindReady, "m")
	if _, loads, _ := f.counts(); !slices.Equal(loads, []string{"m", "m"}) {
		t.Errorf("loads %v, want a retry", loads)
	}
}

func TestEstimateFailure(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	if _, err := p.Acquire(context.Background(), "missing", AcquireOptions{}); !errors.Is(err, errNotFound) {
		t.Fatalf("acquire: %v", err)
	}
	if err := p.Load(context.Background(), "missing", LoadOptions{}); !errors.Is(err, errNotFound) {
		t.Fatalf("load: %v", err)
	}
	waitEvent(t, events, KindError, "missing")
	if _, loads, _ := f.counts(); len(loads) != 0 {
		t.Errorf("loads %v", loads)
	}
}

func TestEventsOfALifetime(t *testing.T) {
	f := newFakeLoader()
	f.resident["m"] = 80
	p, _ := newTestPool(t, Config{}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	mustAcquire(t, p, "m").Release()
	if err := p.Unload(context.Background(), "m", UnloadOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Kind: KindLoading, Model: "m", Bytes: 100},
		{Kind: KindReady, Model: "m", Bytes: 80},
		{Kind: KindUnloading, Model: "m", Reason: ReasonUnload, Bytes: 100},
		{Kind: KindUnloaded, Model: "m", Reason: ReasonUnload, Bytes: 100},
	}
	for i, w := range want {
		ev := <-events
		ev.Time, ev.Duration = time.Time{}, 0
		if ev != w {
			t.Errorf("event %d = %+v, want %+v", i, ev, w)
		}
	}
}

func TestUnload(t *testing.T) {
	ctx := context.Background()
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{}, f)

	if err := p.Unload(ctx, "nothing", UnloadOptions{}); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("unload of an unknown model: %v", err)
	}

	held := mustAcquire(t, p, "m")
	if err := p.Unload(ctx, "m", UnloadOptions{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("unload with a request in flight: %v, want ErrBusy", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Unload(ctx, "m", UnloadOptions{Wait: true}) }()
	eventually(t, "unload to wait", func() bool { return p.unloadWaiters("m") == 1 })
	// A waiting unload lets queued requests run: it never cuts anyone off.
	queued := queueUp(t, p, ctx, "m", 1)
	held.Release()
	if err := <-queued; err != nil {
		t.Fatalf("queued request: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("unload: %v", err)
	}
	if _, _, closes := f.counts(); !slices.Equal(closes, []string{"m"}) {
		t.Fatalf("closes %v", closes)
	}

	if err := p.Load(ctx, "pinned", LoadOptions{Pin: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Unload(ctx, "pinned", UnloadOptions{}); err != nil {
		t.Fatalf("unload of a pinned model: %v", err)
	}
	if _, ok := statusOf(p, "pinned"); ok {
		t.Fatal("pinned model still listed after Unload returned")
	}
}

func TestUnloadWaitCancelled(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{}, f)
	held := mustAcquire(t, p, "m")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Unload(ctx, "m", UnloadOptions{Wait: true}) }()
	eventually(t, "unload to wait", func() bool { return p.unloadWaiters("m") == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("unload: %v", err)
	}
	held.Release()
	p.sweep()
	if s, ok := statusOf(p, "m"); !ok || s.State != StateReady {
		t.Fatalf("a cancelled unload still unloaded the model: %+v", s)
	}
}

func TestUnloadWhileLoading(t *testing.T) {
	f := newFakeLoader()
	f.gate = make(chan struct{})
	p, _ := newTestPool(t, Config{}, f)
	errc := make(chan error, 1)
	go func() { errc <- p.Load(context.Background(), "m", LoadOptions{}) }()
	eventually(t, "load to start", func() bool {
		s, _ := statusOf(p, "m")
		return s.State == StateLoading
	})
	if err := p.Unload(context.Background(), "m", UnloadOptions{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("unload while loading: %v, want ErrBusy", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Unload(context.Background(), "m", UnloadOptions{Wait: true}) }()
	eventually(t, "unload to wait", func() bool { return p.unloadWaiters("m") == 1 })
	close(f.gate)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := statusOf(p, "m"); ok {
		t.Fatal("still loaded")
	}
}

func TestStatusAndMemory(t *testing.T) {
	f := newFakeLoader()
	f.sizes["m"] = 1000
	f.resident["m"] = 600
	p, c := newTestPool(t, Config{BudgetBytes: 4000, MaxModels: 3, DefaultTTL: 5 * time.Minute}, f)
	l := mustAcquire(t, p, "m")
	loadedAt := c.Now()
	s, _ := statusOf(p, "m")
	want := ModelStatus{ID: "m", State: StateReady, ResidentBytes: 600, EstimateBytes: 1000,
		LoadedAt: loadedAt, LastUsed: loadedAt, InFlight: 1, TTL: 5 * time.Minute}
	if s != want {
		t.Errorf("busy status %+v, want %+v", s, want)
	}
	c.Advance(time.Minute)
	l.Release()
	s, _ = statusOf(p, "m")
	if s.InFlight != 0 || !s.LastUsed.Equal(c.Now()) || !s.ExpiresAt.Equal(c.Now().Add(5*time.Minute)) {
		t.Errorf("idle status %+v", s)
	}
	m := p.Memory()
	if m.BudgetBytes != 4000 || m.UsedBytes != 1000 || m.AvailableBytes != 3000 || m.ResidentBytes != 600 ||
		m.Models != 1 || m.MaxModels != 3 {
		t.Errorf("memory %+v", m)
	}
}

func TestCloseUnloadsEverything(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	f := newFakeLoader()
	p := New(Config{BudgetBytes: -1, Logger: discardLogger()}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	mustAcquire(t, p, "a").Release()
	if err := p.Load(ctx, "b", LoadOptions{Pin: true}); err != nil {
		t.Fatal(err)
	}
	held := mustAcquire(t, p, "c")
	queued := queueUp(t, p, ctx, "c", 1)

	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	if err := <-queued; !errors.Is(err, ErrClosed) {
		t.Errorf("queued request at shutdown: %v, want ErrClosed", err)
	}
	// a and b close in parallel, in either order.
	for unloaded := map[string]bool{}; !unloaded["a"] || !unloaded["b"]; {
		ev := <-events
		if ev.Kind != KindUnloaded {
			continue
		}
		if ev.Reason != ReasonShutdown || ev.Model == "c" {
			t.Fatalf("unexpected %+v", ev)
		}
		unloaded[ev.Model] = true
	}
	if _, err := p.Acquire(ctx, "a", AcquireOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("acquire while closing: %v", err)
	}
	if _, _, closes := f.counts(); slices.Contains(closes, "c") {
		t.Fatal("closed a model with a lease held")
	}
	if r, ok := held.Resource().(*fakeResource); !ok || r.closed {
		t.Fatal("the held resource is gone")
	}
	held.Release()
	held.Release() // idempotent
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if n := f.liveCount(); n != 0 {
		t.Errorf("%d resources open after Close", n)
	}
	waitEvent(t, events, KindUnloaded, "c")
	if _, ok := <-events; ok {
		for range events {
		}
	}
	if err := p.Load(ctx, "a", LoadOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("load after close: %v", err)
	}
	if st := p.Status(); st != nil {
		t.Errorf("status after close %v", st)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestShutdownDeadlineWithLeaseHeld(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	p := New(Config{BudgetBytes: -1, Logger: discardLogger()}, f)
	events, stop := p.Subscribe()
	defer stop()
	held := mustAcquire(t, p, "m")
	// An idle model is unloaded as soon as the loop handles the shutdown: its
	// event says Shutdown has started, without probing the pool (a probe that
	// loads a model before shutdown holds a lease Close would wait for).
	if err := p.Load(context.Background(), "idle", LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Shutdown(ctx) }()
	if ev := waitEvent(t, events, KindUnloading, "idle"); ev.Reason != ReasonShutdown {
		t.Fatalf("idle unloaded for %q, want %q", ev.Reason, ReasonShutdown)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("shutdown: %v, want the context's error", err)
	}
	if _, err := p.Acquire(context.Background(), "other", AcquireOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("acquire after shutdown started: %v, want ErrClosed", err)
	}
	held.Release()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n := f.liveCount(); n != 0 {
		t.Errorf("%d resources open", n)
	}
}

func TestCloseCancelsLoad(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	f.gate = make(chan struct{}) // never opens: only cancellation ends the load
	p := New(Config{BudgetBytes: -1, Logger: discardLogger()}, f)
	errc := make(chan error, 1)
	go func() {
		_, err := p.Acquire(context.Background(), "m", AcquireOptions{})
		errc <- err
	}()
	eventually(t, "load to start", func() bool {
		_, loads, _ := f.counts()
		return len(loads) == 1
	})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("acquire: %v, want ErrClosed", err)
	}
}

func TestSlowSubscriber(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{}, f)
	slow, cancelSlow := p.Subscribe()
	ctx := context.Background()
	const cycles = 40 // 4 events each, well past the buffer
	for range cycles {
		mustAcquire(t, p, "m").Release()
		if err := p.Unload(ctx, "m", UnloadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(slow); n != subBuffer {
		t.Fatalf("slow subscriber holds %d events, want a full buffer of %d", n, subBuffer)
	}
	var last Event
	for range subBuffer {
		last = <-slow
	}
	if last.Kind != KindUnloaded {
		t.Errorf("last event %+v: the newest events must survive", last)
	}
	cancelSlow()
	cancelSlow()
	if _, ok := <-slow; ok {
		t.Error("channel open after cancel")
	}
}
