package pool

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse hammers a small pool from many goroutines and checks the
// invariants: a held resource is never closed, a model is never loaded twice
// at once, and no load starts before there is room for it.
func TestConcurrentUse(t *testing.T) {
	checkGoroutines(t)
	f := newFakeLoader()
	f.maxLive = 3
	p, c := newTestPool(t, Config{BudgetBytes: 300, MaxParallel: 2, RoomWait: time.Hour}, f)
	models := []string{"a", "b", "c", "d", "e"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				id := models[(g*7+i*3)%len(models)]
				var o AcquireOptions
				if i%5 == 0 {
					o.TTL = ptr(time.Duration(0))
				}
				l, err := p.Acquire(context.Background(), id, o)
				if err != nil {
					t.Error(err)
					return
				}
				if r := l.Resource().(*fakeResource); r.id != id || r.isClosed() {
					t.Errorf("lease on %s holds %s (closed %v)", id, r.id, r.isClosed())
				}
				if i%4 == 0 {
					c.Advance(time.Second)
				}
				l.Release()
			}
		})
	}
	wg.Wait()
	eventually(t, "unloads to finish", func() bool {
		for _, s := range p.Status() {
			if s.State == StateUnloading {
				return false
			}
		}
		return true
	})
	if m := p.Memory(); m.UsedBytes > 300 {
		t.Errorf("memory %+v over budget when idle", m)
	}
	_, loads, closes := f.counts()
	t.Logf("%d loads, %d closes", len(loads), len(closes))
}

func BenchmarkAcquireRelease(b *testing.B) {
	f := newFakeLoader()
	p := New(Config{BudgetBytes: -1, Logger: discardLogger()}, f)
	defer p.Close()
	ctx := context.Background()
	for b.Loop() {
		l, err := p.Acquire(ctx, "m", AcquireOptions{})
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
}

func BenchmarkAcquireReleaseParallel(b *testing.B) {
	for _, models := range []int{1, 8} {
		b.Run(fmt.Sprintf("models=%d", models), func(b *testing.B) {
			f := newFakeLoader()
			p := New(Config{BudgetBytes: -1, MaxParallel: 4, Logger: discardLogger()}, f)
			defer p.Close()
			ctx := context.Background()
			var n sync.Mutex
			next := 0
			b.RunParallel(func(pb *testing.PB) {
				n.Lock()
				id := fmt.Sprint(next % models)
				next++
				n.Unlock()
				for pb.Next() {
					l, err := p.Acquire(ctx, id, AcquireOptions{})
					if err != nil {
						b.Error(err)
						return
					}
					l.Release()
				}
			})
		})
	}
}
