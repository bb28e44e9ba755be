package auth

import (
	"sync"
	"testing"
	"time"
)

// Finding 6 of issue #27: there was no per-user or per-key limit at all.
func TestQuotasConcurrent(t *testing.T) {
	q := NewQuotas(nil)
	user := QuotaSubject{Key: "user:u", Limits: QuotaLimits{Concurrent: 2}}
	r1, _, ok1 := q.Acquire(user)
	r2, _, ok2 := q.Acquire(user)
	if !ok1 || !ok2 {
		t.Fatal("refused under the limit")
	}
	if _, ref, ok := q.Acquire(user); ok || ref.Limit != "concurrent" || ref.RetryAfter <= 0 {
		t.Fatalf("third concurrent: ok=%v %+v", ok, ref)
	}
	// Another user is not affected.
	if r, _, ok := q.Acquire(QuotaSubject{Key: "user:v", Limits: QuotaLimits{Concurrent: 2}}); !ok {
		t.Fatal("another user refused")
	} else {
		r()
	}
	r1()
	r1() // a second release is harmless
	if r, _, ok := q.Acquire(user); !ok {
		t.Fatal("refused after a release")
	} else {
		r()
	}
	r2()
}

func TestQuotasPerMinute(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := NewQuotas(clk.now)
	key := QuotaSubject{Key: "key:k", Limits: QuotaLimits{PerMinute: 3}}
	user := QuotaSubject{Key: "user:u", Limits: QuotaLimits{PerMinute: 100}}
	for i := range 3 {
		r, _, ok := q.Acquire(user, key)
		if !ok {
			t.Fatalf("request %d refused", i+1)
		}
		r()
		clk.advance(10 * time.Second)
	}
	_, ref, ok := q.Acquire(user, key)
	if ok || ref.Subject != "key:k" || ref.Limit != "per_minute" || ref.RetryAfter != 30*time.Second {
		t.Fatalf("4th in a minute: ok=%v %+v, want refused by key:k for 30s", ok, ref)
	}
	// The refusal cost the user nothing: exactly three starts are counted for it.
	if n := len(q.started["user:u"]); n != 3 {
		t.Fatalf("user counted %d starts, want 3", n)
	}
	clk.advance(ref.RetryAfter)
	if r, _, ok := q.Acquire(user, key); !ok {
		t.Fatal("refused after the minute")
	} else {
		r()
	}
}

func TestQuotasConcurrentUse(t *testing.T) {
	q := NewQuotas(nil)
	s := QuotaSubject{Key: "user:u", Limits: QuotaLimits{Concurrent: 3, PerMinute: 1_000_000}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if r, _, ok := q.Acquire(s); ok {
					r()
				}
			}
		})
	}
	wg.Wait()
	if n := q.inflight["user:u"]; n != 0 {
		t.Fatalf("%d requests still counted in flight", n)
	}
}

func TestQuotasTokensPerDay(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 22, 0, 0, 0, time.UTC)}
	q := NewQuotas(clk.now)
	user := QuotaSubject{Key: "user:u", Limits: QuotaLimits{TokensPerDay: 1000}}
	key := QuotaSubject{Key: "key:k", Limits: QuotaLimits{TokensPerDay: 300}}

	// A restart at 22:00 finds 250 tokens used today by the key (and yesterday's
	// counts, which must not count).
	q.SeedTokens(clk.t, map[string]int64{"user:u": 250, "key:k": 250})
	q.SeedTokens(clk.t.Add(-24*time.Hour), map[string]int64{"user:u": 5000})
	r, _, ok := q.Acquire(user, key)
	if !ok {
		t.Fatal("refused under both limits")
	}
	r()
	q.Charge(60, "user:u", "key:k") // this request crosses the key's limit: it finished
	_, ref, ok := q.Acquire(user, key)
	if ok || ref.Subject != "key:k" || ref.Limit != "tokens_per_day" || ref.RetryAfter != 2*time.Hour {
		t.Fatalf("over the key's daily tokens: ok=%v %+v, want refused by key:k until midnight (2h)", ok, ref)
	}
	// Another key of the same user still works: the user has used 310 of 1000.
	other := QuotaSubject{Key: "key:k2", Limits: QuotaLimits{TokensPerDay: 300}}
	if r, _, ok := q.Acquire(user, other); !ok {
		t.Fatal("the user's other key was refused")
	} else {
		r()
	}
	if got := q.TokensToday("user:u"); got != 310 {
		t.Fatalf("user used %d today, want 310", got)
	}
	clk.advance(ref.RetryAfter) // midnight: a new day, a new budget
	if r, _, ok := q.Acquire(user, key); !ok {
		t.Fatal("refused on a new day")
	} else {
		r()
	}
	if got := q.TokensToday("key:k"); got != 0 {
		t.Fatalf("key used %d on the new day, want 0", got)
	}
}
