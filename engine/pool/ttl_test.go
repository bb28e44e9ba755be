package pool

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestIdleTTL(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		setup  func(t *testing.T, p *Pool) // loads "m"
		stays  time.Duration               // still loaded after this long idle
		goneBy time.Duration               // unloaded after this long idle; 0: never
	}{
		{
			name:   "default TTL",
			cfg:    Config{DefaultTTL: 10 * time.Minute},
			setup:  func(t *testing.T, p *Pool) { mustAcquire(t, p, "m").Release() },
			stays:  9 * time.Minute,
			goneBy: 11 * time.Minute,
		},
		{
			name:   "default of the default is 30 minutes",
			setup:  func(t *testing.T, p *Pool) { mustAcquire(t, p, "m").Release() },
			stays:  29 * time.Minute,
			goneBy: 31 * time.Minute,
		},
		{
			name: "model TTL from Load",
			cfg:  Config{DefaultTTL: 10 * time.Minute},
			setup: func(t *testing.T, p *Pool) {
				if err := p.Load(context.Background(), "m", LoadOptions{TTL: ptr(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			},
			stays:  59 * time.Minute,
			goneBy: 61 * time.Minute,
		},
		{
			name: "request TTL overrides the model's",
			cfg:  Config{DefaultTTL: 10 * time.Minute},
			setup: func(t *testing.T, p *Pool) {
				l, err := p.Acquire(context.Background(), "m", AcquireOptions{TTL: ptr(2 * time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				l.Release()
			},
			stays:  time.Minute,
			goneBy: 3 * time.Minute,
		},
		{
			name: "negative TTL keeps it forever",
			cfg:  Config{DefaultTTL: 10 * time.Minute},
			setup: func(t *testing.T, p *Pool) {
				l, err := p.Acquire(context.Background(), "m", AcquireOptions{TTL: ptr(-time.Second)})
				if err != nil {
					t.Fatal(err)
				}
				l.Release()
			},
			stays: 1000 * time.Hour,
		},
		{
			name:  "pinned never expires",
			cfg:   Config{DefaultTTL: time.Minute},
			setup: func(t *testing.T, p *Pool) { _ = p.Load(context.Background(), "m", LoadOptions{Pin: true}) },
			stays: 1000 * time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeLoader()
			p, c := newTestPool(t, tt.cfg, f)
			tt.setup(t, p)
			s, ok := statusOf(p, "m")
			if !ok || s.State != StateReady {
				t.Fatalf("status %+v after setup", s)
			}
			c.Advance(tt.stays)
			p.sweep()
			if _, ok := statusOf(p, "m"); !ok {
				t.Fatalf("unloaded after %s idle", tt.stays)
			}
			if tt.goneBy == 0 {
				if !s.ExpiresAt.IsZero() {
					t.Errorf("expires at %s, want never", s.ExpiresAt)
				}
				return
			}
			if want := s.LastUsed.Add(s.TTL); !s.ExpiresAt.Equal(want) {
				t.Errorf("expires at %s, want last use + TTL = %s", s.ExpiresAt, want)
			}
			c.Advance(tt.goneBy - tt.stays)
			p.sweep()
			untilGone(t, p, "m")
			if _, _, closes := f.counts(); !slices.Equal(closes, []string{"m"}) {
				t.Errorf("closed %v", closes)
			}
		})
	}
}

func TestTTLZeroUnloadsAfterRequest(t *testing.T) {
	f := newFakeLoader()
	p, _ := newTestPool(t, Config{MaxParallel: 1}, f)
	events, cancel := p.Subscribe()
	defer cancel()
	first, err := p.Acquire(context.Background(), "m", AcquireOptions{TTL: ptr(time.Duration(0))})
	if err != nil {
		t.Fatal(err)
	}
	// A request queued behind keeps the model loaded past the first release.
	next := make(chan *Lease)
	go func() {
		l, err := p.Acquire(context.Background(), "m", AcquireOptions{TTL: ptr(time.Duration(0))})
		if err != nil {
			t.Error(err)
		}
		next <- l
	}()
	eventually(t, "second request to queue", func() bool {
		s, _ := statusOf(p, "m")
		return s.Queued == 1
	})
	first.Release()
	second := <-next
	if second == nil {
		t.FailNow()
	}
	if _, _, closes := f.counts(); len(closes) != 0 {
		t.Fatalf("unloaded with a request in flight: %v", closes)
	}
	second.Release()
	if ev := waitEvent(t, events, KindEvicted, "m"); ev.Reason != ReasonIdle {
		t.Errorf("reason %q", ev.Reason)
	}
	waitEvent(t, events, KindUnloaded, "m")
	if _, loads, closes := f.counts(); len(loads) != 1 || len(closes) != 1 {
		t.Errorf("loads %v closes %v", loads, closes)
	}
}

func TestUnpinStartsTTL(t *testing.T) {
	f := newFakeLoader()
	p, c := newTestPool(t, Config{DefaultTTL: time.Minute}, f)
	if err := p.Load(context.Background(), "m", LoadOptions{Pin: true}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	p.sweep()
	if err := p.Pin("m", false); err != nil {
		t.Fatal(err)
	}
	// The model has been idle for an hour: it goes as soon as it is unpinned.
	untilGone(t, p, "m")
	if err := p.Pin("m", true); err == nil {
		t.Error("pinning an unloaded model succeeded")
	}
}

func TestTimerFiresWithRealClock(t *testing.T) {
	f := newFakeLoader()
	p := New(Config{BudgetBytes: -1, DefaultTTL: time.Millisecond, Logger: discardLogger()}, f)
	defer p.Close()
	mustAcquire(t, p, "m").Release()
	// No sweep: the run loop's own timer must notice the expiry.
	untilGone(t, p, "m")
}

// A release counts from when Release was called, not from when the run loop
// got to it: a busy loop must not make a model look more recently used (LRU)
// or push its TTL back.
func TestReleaseTimeIsTakenAtRelease(t *testing.T) {
	f := newFakeLoader()
	clock := newFakeClock()
	readClock := make(chan struct{}, 1)
	now := func() time.Time {
		t := clock.Now() // read before signalling: the test moves the clock next
		select {
		case readClock <- struct{}{}:
		default:
		}
		return t
	}
	p := New(Config{BudgetBytes: -1, Now: now, Logger: discardLogger()}, f)
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	l := mustAcquire(t, p, "m")
	clock.Advance(time.Second)
	releasedAt := clock.Now()

	// Hold the loop inside a message so the release has to wait for it.
	onLoop, unblock := make(chan struct{}), make(chan struct{})
	swept := make(chan struct{})
	go func() {
		p.peek(func() { close(onLoop); <-unblock })
		close(swept)
	}()
	<-onLoop
	select { // the loop's own reads before it blocked
	case <-readClock:
	default:
	}
	go l.Release()
	<-readClock // Release has read the clock; the loop cannot have
	clock.Advance(time.Minute)
	close(unblock)
	<-swept

	// The release and the test's Status race for the inbox: wait for the release.
	var s ModelStatus
	eventually(t, "the release to be handled", func() bool {
		s, _ = statusOf(p, "m")
		return s.InFlight == 0
	})
	if !s.LastUsed.Equal(releasedAt) {
		t.Errorf("last used %v, want the release time %v", s.LastUsed, releasedAt)
	}
}
