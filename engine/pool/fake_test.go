package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeLoader records every call at the Loader interface. Sizes not listed
// are 100 bytes.
type fakeLoader struct {
	mu        sync.Mutex
	sizes     map[string]int64
	resident  map[string]int64 // measured size when it differs from the estimate
	failLoads map[string]int   // how many more loads of a model fail
	gate      chan struct{}    // non-nil: Load blocks until it is closed
	estimates []string
	loads     []string
	closes    []string
	live      map[string]int // loaded and not closed, by id
	maxLive   int            // > 0: a load beyond this many live resources is a violation
	violation []string
}

var errBroken = errors.New("broken weights")

func newFakeLoader() *fakeLoader {
	return &fakeLoader{sizes: map[string]int64{}, resident: map[string]int64{}, failLoads: map[string]int{}, live: map[string]int{}}
}

func (f *fakeLoader) Estimate(ctx context.Context, id string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.estimates = append(f.estimates, id)
	if id == "missing" {
		return 0, fmt.Errorf("estimate %s: %w", id, errNotFound)
	}
	if n, ok := f.sizes[id]; ok {
		return n, nil
	}
	return 100, nil
}

var errNotFound = errors.New("no such model")

func (f *fakeLoader) Load(ctx context.Context, id string) (Resource, error) {
	f.mu.Lock()
	f.loads = append(f.loads, id)
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, fmt.Errorf("load %s: %w", id, ctx.Err())
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failLoads[id] > 0 {
		f.failLoads[id]--
		return nil, fmt.Errorf("load %s: %w", id, errBroken)
	}
	f.live[id]++
	if f.live[id] > 1 {
		f.violation = append(f.violation, id+" loaded twice")
	}
	if total := f.liveLocked(); f.maxLive > 0 && total > f.maxLive {
		f.violation = append(f.violation, fmt.Sprintf("%d models live while loading %s", total, id))
	}
	n, ok := f.resident[id]
	if !ok {
		n = f.sizes[id]
		if n == 0 {
			n = 100
		}
	}
	return &fakeResource{id: id, bytes: n, f: f}, nil
}

func (f *fakeLoader) counts() (estimates, loads, closes []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.estimates), slices.Clone(f.loads), slices.Clone(f.closes)
}

func (f *fakeLoader) liveCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.liveLocked()
}

func (f *fakeLoader) liveLocked() int {
	n := 0
	for _, c := range f.live {
		n += c
	}
	return n
}

type fakeResource struct {
	id     string
	bytes  int64
	f      *fakeLoader
	closed bool // guarded by f.mu
}

func (r *fakeResource) ResidentBytes() int64 { return r.bytes }

func (r *fakeResource) isClosed() bool {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.closed
}

func (r *fakeResource) Close() error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if r.closed {
		return fmt.Errorf("close %s twice", r.id)
	}
	r.closed = true
	r.f.closes = append(r.f.closes, r.id)
	r.f.live[r.id]--
	return nil
}

// newTestPool starts a pool on a fake clock and checks at cleanup that Close
// unloads everything.
func newTestPool(t *testing.T, cfg Config, f *fakeLoader) (*Pool, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg.Now = clock.Now
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if cfg.BudgetBytes == 0 {
		cfg.BudgetBytes = -1
	}
	p := New(cfg, f)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if n := f.liveCount(); n != 0 {
			t.Errorf("%d resources still open after Close", n)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, v := range f.violation {
			t.Error(v)
		}
	})
	return p, clock
}

// sweep runs the loop's checks now, as its timer would.
func (p *Pool) sweep() { p.peek(nil) }

// peek runs fn on the run loop, after its checks.
func (p *Pool) peek(fn func()) {
	done := make(chan struct{})
	if p.send(context.Background(), sweepMsg{fn: fn, done: done}) == nil {
		<-done
	}
}

// unloadWaiters counts the Unload calls waiting on id.
func (p *Pool) unloadWaiters(id string) (n int) {
	p.peek(func() {
		if e := p.models[id]; e != nil {
			n = len(e.waits.unload)
		}
	})
	return n
}

// use acquires and releases id, advancing the clock so use order is LRU order.
func use(t *testing.T, p *Pool, c *fakeClock, id string) {
	t.Helper()
	c.Advance(time.Second)
	l, err := p.Acquire(context.Background(), id, AcquireOptions{})
	if err != nil {
		t.Fatalf("acquire %s: %v", id, err)
	}
	l.Release()
}

func mustAcquire(t *testing.T, p *Pool, id string) *Lease {
	t.Helper()
	l, err := p.Acquire(context.Background(), id, AcquireOptions{})
	if err != nil {
		t.Fatalf("acquire %s: %v", id, err)
	}
	return l
}

// statusOf finds id in the pool's status; ok is false when it is not there.
func statusOf(p *Pool, id string) (ModelStatus, bool) {
	for _, s := range p.Status() {
		if s.ID == id {
			return s, true
		}
	}
	return ModelStatus{}, false
}

// eventually polls cond until it holds, for state the pool reports only when
// asked (Status, queue lengths); the deadline guards against hangs, it does not
// measure time. It calls t.Fatalf, so only the test goroutine may call it.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// untilGone waits until the pool no longer lists id (its Close has returned).
func untilGone(t *testing.T, p *Pool, id string) {
	t.Helper()
	eventually(t, id+" to unload", func() bool {
		_, ok := statusOf(p, id)
		return !ok
	})
}

// waitEvent reads events until one of kind for model arrives.
func waitEvent(t *testing.T, ch <-chan Event, kind Kind, model string) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed before %s %s", kind, model)
			}
			if ev.Kind == kind && ev.Model == model {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event for %s", kind, model)
		}
	}
}

// checkGoroutines fails if the test leaves goroutines behind.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}

func ptr[T any](v T) *T { return &v }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
