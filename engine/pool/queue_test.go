package pool

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// queueUp starts an Acquire of id in the background once the queue holds
// want-1 requests, and waits until it is queued.
func queueUp(t *testing.T, p *Pool, ctx context.Context, id string, queued int) <-chan error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		l, err := p.Acquire(ctx, id, AcquireOptions{})
		if l != nil {
			l.Release()
		}
		errc <- err
	}()
	eventually(t, "request to queue", func() bool {
		s, _ := statusOf(p, id)
		return s.Queued == queued
	})
	return errc
}

func TestQueueFull(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{MaxQueue: 2}, f)
	held := mustAcquire(t, p, "m")
	a := queueUp(t, p, context.Background(), "m", 1)
	b := queueUp(t, p, context.Background(), "m", 2)
	_, err := p.Acquire(context.Background(), "m", AcquireOptions{})
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third waiter: %v, want ErrQueueFull", err)
	}
	if s, _ := statusOf(p, "m"); s.InFlight != 1 || s.Queued != 2 {
		t.Errorf("status %+v", s)
	}
	held.Release()
	for _, c := range []<-chan error{a, b} {
		if err := <-c; err != nil {
			t.Error(err)
		}
	}
}

func TestQueueTimeout(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{QueueTimeout: time.Minute}, f)
	held := mustAcquire(t, p, "m")
	defer held.Release()
	errc := queueUp(t, p, context.Background(), "m", 1)
	c.Advance(30 * time.Second)
	p.sweep()
	select {
	case err := <-errc:
		t.Fatalf("gave up early: %v", err)
	default:
	}
	c.Advance(31 * time.Second)
	p.sweep()
	if err := <-errc; !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("acquire: %v, want ErrQueueTimeout", err)
	}
	if s, _ := statusOf(p, "m"); s.Queued != 0 || s.InFlight != 1 {
		t.Errorf("status %+v", s)
	}
}

func TestFIFOAndParallel(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{MaxParallel: 2}, f)
	a, b := mustAcquire(t, p, "m"), mustAcquire(t, p, "m")
	if s, _ := statusOf(p, "m"); s.InFlight != 2 {
		t.Fatalf("in flight %d, want 2", s.InFlight)
	}
	var mu sync.Mutex
	var order []int
	var leases []*Lease
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			l, err := p.Acquire(context.Background(), "m", AcquireOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			leases = append(leases, l)
			mu.Unlock()
		})
		eventually(t, "request to queue", func() bool {
			s, _ := statusOf(p, "m")
			return s.Queued == i+1
		})
	}
	a.Release()
	b.Release()
	// Two slots: leases come two at a time, in arrival order.
	for granted := 2; granted <= 6; granted += 2 {
		want := min(granted, 5)
		eventually(t, "grants", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(order) == want
		})
		if s, _ := statusOf(p, "m"); s.InFlight != min(2, want-granted+2) || s.Queued != 5-want {
			t.Fatalf("after %d grants: status %+v", want, s)
		}
		mu.Lock()
		held := slices.Clone(leases[granted-2 : want])
		mu.Unlock()
		for _, l := range held {
			l.Release()
		}
	}
	wg.Wait()
	// Within a pair both are granted at once, so only the pairs are ordered.
	slices.Sort(order[0:2])
	slices.Sort(order[2:4])
	if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
		t.Errorf("grant order %v, want arrival order by pairs", order)
	}
}

func TestCancelWaitingAcquire(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	p, c := newTestPool(t, Config{DefaultTTL: time.Minute}, f)
	held := mustAcquire(t, p, "m")
	ctx, cancel := context.WithCancel(context.Background())
	errc := queueUp(t, p, ctx, "m", 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire: %v, want context.Canceled", err)
	}
	if s, _ := statusOf(p, "m"); s.Queued != 0 || s.InFlight != 1 {
		t.Fatalf("status after cancel %+v", s)
	}
	held.Release()
	if s, _ := statusOf(p, "m"); s.InFlight != 0 || s.ExpiresAt.IsZero() {
		t.Fatalf("status after release %+v: the cancelled request left a hold", s)
	}
	c.Advance(2 * time.Minute)
	p.sweep()
	untilGone(t, p, "m")
}

func TestCancelDuringLoad(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	f.gate = make(chan struct{})
	p, _ := newTestPool(t, Config{}, f)
	ctx, cancel := context.WithCancel(context.Background())
	errc := queueUp(t, p, ctx, "m", 1)
	eventually(t, "load to start", func() bool {
		_, loads, _ := f.counts()
		return len(loads) == 1
	})
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire: %v", err)
	}
	// The load carries on, and the next request gets its result.
	close(f.gate)
	mustAcquire(t, p, "m").Release()
	if _, loads, _ := f.counts(); len(loads) != 1 {
		t.Errorf("loads %v, want one", loads)
	}
}

func TestCancelBeforeEstimateDropsLoad(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{BudgetBytes: 100}, f)
	held := mustAcquire(t, p, "a") // fills the budget: b waits for room
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	errc := queueUp(t, p, ctx, "b", 1)
	eventually(t, "b to wait for room", func() bool {
		s, _ := statusOf(p, "b")
		return s.EstimateBytes == 100
	})
	cancel()
	<-errc
	p.sweep()
	if _, ok := statusOf(p, "b"); ok {
		t.Error("b still waits for room with nobody asking for it")
	}
	if _, loads, _ := f.counts(); !slices.Equal(loads, []string{"a"}) {
		t.Errorf("loads %v", loads)
	}
}
