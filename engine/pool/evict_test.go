package pool

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEvictLRUUnderBudget(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	p, c := newTestPool(t, Config{BudgetBytes: 300}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	use(t, p, c, "a")
	use(t, p, c, "b")
	use(t, p, c, "c")
	use(t, p, c, "a") // b is now the least recently used
	use(t, p, c, "d")
	// The load of d waits for the close of b, so b is closed by the time d is ready.
	if _, _, closes := f.counts(); !slices.Equal(closes, []string{"b"}) {
		t.Fatalf("closed %v, want [b]", closes)
	}
	if ev := waitEvent(t, events, KindEvicted, "b"); ev.Reason != ReasonMemory {
		t.Errorf("evicted b for %q, want %q", ev.Reason, ReasonMemory)
	}
	use(t, p, c, "b") // now c is the oldest
	if _, loads, closes := f.counts(); !slices.Equal(closes, []string{"b", "c"}) || len(loads) != 5 {
		t.Fatalf("loads %v closes %v, want c evicted for b", loads, closes)
	}
	if m := p.Memory(); m.UsedBytes != 300 || m.AvailableBytes != 0 || m.Models != 3 || m.BudgetBytes != 300 {
		t.Errorf("memory %+v, want 300 of 300 used by 3 models", m)
	}
}

func TestEvictMaxModels(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{MaxModels: 2}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	use(t, p, c, "a")
	use(t, p, c, "b")
	use(t, p, c, "a")
	use(t, p, c, "c")
	if ev := waitEvent(t, events, KindEvicted, "b"); ev.Reason != ReasonMaxModels {
		t.Errorf("evicted b for %q, want %q", ev.Reason, ReasonMaxModels)
	}
	waitEvent(t, events, KindUnloaded, "b")
	var ids []string
	for _, s := range p.Status() {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"a", "c"}) {
		t.Errorf("loaded %v, want [a c]", ids)
	}
}

func TestPinnedAndBusySurviveEviction(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{BudgetBytes: 200, RoomWait: time.Minute}, f)
	ctx := context.Background()
	if err := p.Load(ctx, "pinned", LoadOptions{Pin: true}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	busy := mustAcquire(t, p, "busy")

	// Only pinned and busy models hold the room: the load waits, then gives up.
	errc := make(chan error, 1)
	go func() {
		l, err := p.Acquire(ctx, "new", AcquireOptions{})
		if l != nil {
			l.Release()
		}
		errc <- err
	}()
	eventually(t, "new to wait for room", func() bool {
		s, ok := statusOf(p, "new")
		return ok && s.State == StatePending && s.EstimateBytes == 100
	})
	c.Advance(59 * time.Second)
	p.sweep()
	if _, ok := statusOf(p, "new"); !ok {
		t.Fatal("new gave up before RoomWait")
	}
	c.Advance(2 * time.Second)
	p.sweep()
	if err := <-errc; !errors.Is(err, ErrNoRoom) {
		t.Fatalf("acquire new: %v, want ErrNoRoom", err)
	}
	if _, _, closes := f.counts(); len(closes) != 0 {
		t.Fatalf("closed %v while pinned and busy", closes)
	}

	// Once the busy model is released, it is the one to go.
	go func() {
		l, err := p.Acquire(ctx, "new", AcquireOptions{})
		if l != nil {
			l.Release()
		}
		errc <- err
	}()
	eventually(t, "new to wait for room again", func() bool {
		s, ok := statusOf(p, "new")
		return ok && s.EstimateBytes == 100
	})
	busy.Release()
	if err := <-errc; err != nil {
		t.Fatalf("acquire new after release: %v", err)
	}
	if _, _, closes := f.counts(); !slices.Equal(closes, []string{"busy"}) {
		t.Fatalf("closed %v, want [busy]", closes)
	}
	if s, ok := statusOf(p, "pinned"); !ok || !s.Pinned || !s.ExpiresAt.IsZero() {
		t.Fatalf("pinned status %+v", s)
	}
}

func TestTooLargeFailsFast(t *testing.T) {
	f := newFakeLoader()
	f.sizes["huge"] = 1000
	p, c := newTestPool(t, Config{BudgetBytes: 300}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	use(t, p, c, "a")
	_, err := p.Acquire(context.Background(), "huge", AcquireOptions{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("acquire huge: %v, want ErrTooLarge", err)
	}
	if ev := waitEvent(t, events, KindError, "huge"); ev.Err != err.Error() {
		t.Errorf("error event %q, want %q", ev.Err, err)
	}
	_, loads, closes := f.counts()
	if !slices.Equal(loads, []string{"a"}) || len(closes) != 0 {
		t.Errorf("loads %v closes %v: nothing should be evicted or loaded for a model that never fits", loads, closes)
	}
	// A second try fails the same way instead of looping.
	if _, err := p.Acquire(context.Background(), "huge", AcquireOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("second acquire huge: %v", err)
	}
}

func TestSetConfigEvicts(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{BudgetBytes: 400}, f)
	for _, id := range []string{"a", "b", "c", "d"} {
		use(t, p, c, id)
	}
	held := mustAcquire(t, p, "a") // a is busy, and now the most recently used
	defer held.Release()
	p.SetConfig(Config{BudgetBytes: 200})
	untilGone(t, p, "b")
	untilGone(t, p, "c")
	_, _, closes := f.counts()
	slices.Sort(closes)
	if !slices.Equal(closes, []string{"b", "c"}) {
		t.Errorf("closed %v, want the two least recently used idle models [b c]", closes)
	}
	if m := p.Memory(); m.UsedBytes != 200 || m.BudgetBytes != 200 {
		t.Errorf("memory %+v", m)
	}
}

func TestLargerThanEstimateEvicts(t *testing.T) {
	f := newFakeLoader()
	f.resident["fat"] = 250 // measured after load, well above its estimate
	p, c := newTestPool(t, Config{BudgetBytes: 300}, f)
	use(t, p, c, "a")
	use(t, p, c, "fat")
	untilGone(t, p, "a")
	s, _ := statusOf(p, "fat")
	if s.ResidentBytes != 250 || s.EstimateBytes != 100 {
		t.Errorf("status %+v, want resident 250 estimate 100", s)
	}
	if m := p.Memory(); m.UsedBytes != 250 || m.ResidentBytes != 250 {
		t.Errorf("memory %+v", m)
	}
}

func TestSingleFlightLoad(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	f.gate = make(chan struct{})
	p, _ := newTestPool(t, Config{}, f)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for range n {
		wg.Go(func() {
			l, err := p.Acquire(context.Background(), "m", AcquireOptions{})
			if err != nil {
				errs <- err
				return
			}
			if r, ok := l.Resource().(*fakeResource); !ok || r.id != "m" {
				errs <- errors.New("lease on the wrong resource")
			}
			l.Release()
		})
	}
	wg.Go(func() { errs <- p.Load(context.Background(), "m", LoadOptions{}) })
	eventually(t, "all requests to queue", func() bool {
		s, _ := statusOf(p, "m")
		return s.Queued == n && s.State == StateLoading
	})
	close(f.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if estimates, loads, _ := f.counts(); len(loads) != 1 || len(estimates) != 1 {
		t.Errorf("estimates %v loads %v, want exactly one of each", estimates, loads)
	}
}

func TestMeasuredSizeTooLarge(t *testing.T) {
	f := newFakeLoader()
	f.resident["fat"] = 400 // over the budget, though its estimate fits
	p, c := newTestPool(t, Config{BudgetBytes: 300}, f)
	use(t, p, c, "fat")
	untilGone(t, p, "fat") // over the budget once idle
	// The pool remembers: the next request fails at once instead of loading it again.
	if _, err := p.Acquire(context.Background(), "fat", AcquireOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("acquire: %v, want ErrTooLarge", err)
	}
	if _, loads, _ := f.counts(); len(loads) != 1 {
		t.Errorf("loads %v", loads)
	}
}

// TestPinnedOnlyFailsAtOnce: when only pinned models hold the memory, no
// request ending can make room, so a load fails at once naming them instead
// of waiting RoomWait.
func TestPinnedOnlyFailsAtOnce(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{BudgetBytes: 200, RoomWait: time.Minute}, f)
	ctx := context.Background()
	for _, id := range []string{"pin-a", "pin-b"} {
		if err := p.Load(ctx, id, LoadOptions{Pin: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The fake clock never moves: only an answer that does not wait returns.
	_, err := p.Acquire(ctx, "new", AcquireOptions{})
	if !errors.Is(err, ErrNoRoom) {
		t.Fatalf("acquire new: %v, want ErrNoRoom", err)
	}
	for _, want := range []string{"pin-a (pinned)", "pin-b (pinned)", "unpin one"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, _, closes := f.counts(); len(closes) != 0 {
		t.Fatalf("closed %v, pinned models must stay", closes)
	}
}
