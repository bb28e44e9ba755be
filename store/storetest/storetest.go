package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
)

// Open opens a store in a fresh temp dir; the test fails at cleanup if the file is
// inconsistent.
func Open(tb testing.TB) *store.Store {
	tb.Helper()
	return OpenDir(tb, tb.TempDir(), store.Options{})
}

// OpenDir opens the store in dir with opts and checks and closes it at cleanup.
func OpenDir(tb testing.TB, dir string, opts store.Options) *store.Store {
	tb.Helper()
	st, err := store.Open(dir, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Check(); err != nil {
			tb.Errorf("store check: %v", err)
		}
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return st
}

// Clock is a manual clock for store.Options.Now and friends. It starts at a fixed
// instant so tests do not depend on the date.
type Clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

// NewClock returns a clock at 2025-01-01 12:00 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
