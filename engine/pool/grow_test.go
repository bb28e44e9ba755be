package pool

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// growWaiters counts the Grow calls waiting on id.
func (p *Pool) growWaiters(id string) (n int) {
	p.peek(func() {
		if e := p.models[id]; e != nil {
			n = len(e.waits.grow)
		}
	})
	return n
}

// TestGrowCharges: KV bytes charged by Grow count in the budget, the
// model's status and the memory report until Shrink gives them back.
func TestGrowCharges(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{BudgetBytes: 300}, f)
	l := mustAcquire(t, p, "a")
	defer l.Release()
	ctx := context.Background()
	if err := p.Grow(ctx, "a", 50); err != nil {
		t.Fatal(err)
	}
	if err := p.Grow(ctx, "a", 30); err != nil {
		t.Fatal(err)
	}
	if m := p.Memory(); m.UsedBytes != 180 || m.AvailableBytes != 120 {
		t.Errorf("memory %+v, want 180 used", m)
	}
	if s, _ := statusOf(p, "a"); s.KVBytes != 80 {
		t.Errorf("status %+v, want 80 kv bytes", s)
	}
	p.Shrink("a", 50)
	if m := p.Memory(); m.UsedBytes != 130 {
		t.Errorf("after shrink: memory %+v, want 130 used", m)
	}
	if err := p.Grow(ctx, "b", 10); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("grow of a model not loaded: %v", err)
	}
}

// TestGrowEvictsIdle: a running model's KV cache makes room by evicting idle
// models, least recently used first, and never itself.
func TestGrowEvictsIdle(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{BudgetBytes: 400}, f)
	use(t, p, c, "b")
	use(t, p, c, "c")
	c.Advance(time.Second)
	l := mustAcquire(t, p, "a")
	defer l.Release()
	if err := p.Grow(context.Background(), "a", 150); err != nil {
		t.Fatal(err)
	}
	untilGone(t, p, "b")
	if _, _, closes := f.counts(); !slices.Equal(closes, []string{"b"}) {
		t.Fatalf("closed %v, want [b]", closes)
	}
	if m := p.Memory(); m.UsedBytes != 350 {
		t.Errorf("memory %+v, want 350 used", m)
	}
}

// TestGrowWaitsForRoom: when busy models hold the room, Grow waits until a
// request ends (its model then idle and evicted), and loads queue behind it.
func TestGrowWaitsForRoom(t *testing.T) {
	f := newFakeLoader()
	p, clk := newTestPool(t, Config{BudgetBytes: 300, RoomWait: time.Minute}, f)
	a, b := mustAcquire(t, p, "a"), mustAcquire(t, p, "b")
	defer a.Release()
	errc := make(chan error, 1)
	go func() { errc <- p.Grow(context.Background(), "a", 150) }()
	eventually(t, "grow to wait", func() bool { return p.growWaiters("a") == 1 })
	// A load that would fit in what is left waits behind the growth.
	loadc := make(chan error, 1)
	go func() { loadc <- p.Load(context.Background(), "c", LoadOptions{}) }()
	eventually(t, "c to be estimated", func() bool { s, ok := statusOf(p, "c"); return ok && s.EstimateBytes > 0 })
	if _, loads, _ := f.counts(); slices.Contains(loads, "c") {
		t.Fatal("c loaded while a's growth waited for room")
	}
	b.Release() // b goes idle and is evicted for a's cache: 250 of 300 used
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	p.sweep()
	if err := <-loadc; !errors.Is(err, ErrNoRoom) {
		t.Fatalf("load of c next to a's cache: %v", err)
	}
	if s, _ := statusOf(p, "a"); s.KVBytes != 150 {
		t.Errorf("status %+v, want 150 kv bytes", s)
	}
}

// TestGrowNoRoom: a growth that busy models keep out fails with ErrNoRoom
// after RoomWait, one beyond the whole budget at once; neither charges.
func TestGrowNoRoom(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{BudgetBytes: 300, RoomWait: time.Minute}, f)
	a, b := mustAcquire(t, p, "a"), mustAcquire(t, p, "b")
	defer a.Release()
	defer b.Release()
	ctx := context.Background()
	if err := p.Grow(ctx, "a", 201); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("growth beyond the budget: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- p.Grow(ctx, "a", 150) }()
	eventually(t, "grow to wait", func() bool { return p.growWaiters("a") == 1 })
	c.Advance(time.Minute)
	p.sweep()
	if err := <-errc; !errors.Is(err, ErrNoRoom) {
		t.Fatalf("growth kept out for RoomWait: %v", err)
	}
	if m := p.Memory(); m.UsedBytes != 200 {
		t.Errorf("memory %+v, want 200 used (nothing charged)", m)
	}
}

// TestGrowCancel: a caller that gives up leaves nothing charged and the
// queue empty.
func TestGrowCancel(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{BudgetBytes: 300}, f)
	a, b := mustAcquire(t, p, "a"), mustAcquire(t, p, "b")
	defer a.Release()
	defer b.Release()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Grow(ctx, "a", 150) }()
	eventually(t, "grow to wait", func() bool { return p.growWaiters("a") == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled growth: %v", err)
	}
	if n, m := p.growWaiters("a"), p.Memory(); n != 0 || m.UsedBytes != 200 {
		t.Errorf("%d waiting, memory %+v, want none and 200 used", n, m)
	}
}

// TestGrowFreedByUnload: the KV charge leaves with the model, and the
// executor's Shrink while it closes lands on the closing entry, not on a
// new load of the same model.
func TestGrowFreedByUnload(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{BudgetBytes: 300}, f)
	ctx := context.Background()
	l := mustAcquire(t, p, "a")
	if err := p.Grow(ctx, "a", 100); err != nil {
		t.Fatal(err)
	}
	l.Release()
	if err := p.Unload(ctx, "a", UnloadOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Shrink("a", 100) // the closed executor's late word: ignored
	if m := p.Memory(); m.UsedBytes != 0 {
		t.Errorf("memory %+v, want 0 used", m)
	}
	l = mustAcquire(t, p, "a")
	defer l.Release()
	if s, _ := statusOf(p, "a"); s.KVBytes != 0 {
		t.Errorf("reloaded: %+v, want no kv bytes", s)
	}
}
