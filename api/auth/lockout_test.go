package auth

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// memLocks is a LockStore in memory, standing in for bbolt's records here so the
// throttle's rules are tested alone; api's tests run them over the real store.
type memLocks struct {
	mu sync.Mutex
	m  map[string]Lock
}

func (s *memLocks) Load() (map[string]Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m), nil
}
func (s *memLocks) Save(k string, l Lock) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = l
	return nil
}
func (s *memLocks) Delete(k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

func newTestThrottle(t *testing.T, st LockStore) (*Throttle, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th, err := NewThrottle(ThrottleConfig{Now: clk.now}, st)
	if err != nil {
		t.Fatal(err)
	}
	return th, clk
}

const (
	victim   = "admin@example.com"
	attacker = "addr:loopback"
	owner    = "device:owner-laptop"
)

// Finding 1 of issue #27: failures from one client must not lock the account for a
// client the account knows.
func TestThrottleStrangerCannotLockOwnerOut(t *testing.T) {
	th, clk := newTestThrottle(t, nil)
	for range 100 {
		if _, ok := th.Check(victim, attacker, false); !ok {
			break
		}
		if _, err := th.Fail(victim, attacker, false); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Millisecond)
	}
	if r, ok := th.Check(victim, attacker, false); ok {
		t.Fatalf("attacker still allowed after its failures")
	} else if r.Scope != "pair" {
		t.Fatalf("attacker refused by %q, want pair", r.Scope)
	}
	if r, ok := th.Check(victim, owner, true); !ok {
		t.Fatalf("owner's known device refused (%s, %v)", r.Scope, r.RetryAfter)
	}
}

func TestThrottlePairBackoffDoubles(t *testing.T) {
	th, clk := newTestThrottle(t, nil)
	var waits []time.Duration
	for i := range 8 {
		if _, err := th.Fail(victim, attacker, true); err != nil {
			t.Fatal(err)
		}
		r, ok := th.Check(victim, attacker, true)
		if i < 3 {
			if !ok {
				t.Fatalf("refused after %d failures, want 3 free", i+1)
			}
			continue
		}
		if ok {
			t.Fatalf("allowed after %d failures", i+1)
		}
		waits = append(waits, r.RetryAfter)
		clk.advance(r.RetryAfter)
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("back-off %v, want %v", waits, want)
	}
	// A success forgets the pair.
	if err := th.Succeed(victim, attacker); err != nil {
		t.Fatal(err)
	}
	if _, ok := th.Check(victim, attacker, true); !ok {
		t.Fatal("refused after a success")
	}
}

func TestThrottlePairBackoffCapped(t *testing.T) {
	th, _ := newTestThrottle(t, nil)
	for range 60 {
		th.Fail(victim, attacker, true)
	}
	if r, _ := th.Check(victim, attacker, true); r.RetryAfter != 15*time.Minute {
		t.Fatalf("wait %v after 60 failures, want the 15 min cap", r.RetryAfter)
	}
}

// Many clients spraying one account: unknown clients wait, known ones do not.
func TestThrottleAccountRate(t *testing.T) {
	th, clk := newTestThrottle(t, nil)
	var events []LockEvent
	for i := range 20 {
		ev, err := th.Fail(victim, fmt.Sprintf("addr:10.0.0.%d", i), false)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev...)
	}
	if len(events) != 1 || events[0].Scope != "account" {
		t.Fatalf("lock events %+v, want one account lockout", events)
	}
	if r, ok := th.Check(victim, "addr:10.0.0.99", false); ok || r.Scope != "account" {
		t.Fatalf("fresh unknown client: ok=%v scope=%q, want refused by account", ok, r.Scope)
	}
	if _, ok := th.Check(victim, owner, true); !ok {
		t.Fatal("known device refused during an account lockout")
	}
	clk.advance(15 * time.Minute)
	if _, ok := th.Check(victim, "addr:10.0.0.99", false); !ok {
		t.Fatal("still refused after the window")
	}
}

// Finding 2 of issue #27: one address failing on many accounts must not stop a
// known client of any account.
func TestThrottleAddressLimitSparesKnownClients(t *testing.T) {
	th, _ := newTestThrottle(t, nil)
	for i := range 20 {
		th.Fail(fmt.Sprintf("spray%d@example.com", i), attacker, false)
	}
	if r, ok := th.Check(victim, attacker, false); ok || r.Scope != "client" {
		t.Fatalf("sprayer: ok=%v scope=%q, want refused by client", ok, r.Scope)
	}
	if _, ok := th.Check(victim, owner, true); !ok {
		t.Fatal("known device refused because its address sprayed")
	}
}

func TestThrottlePersistsAndClears(t *testing.T) {
	st := &memLocks{m: map[string]Lock{}}
	th, clk := newTestThrottle(t, st)
	for range 30 {
		th.Fail(victim, attacker, false)
	}
	th.Fail("other@example.com", attacker, false)

	// A restart loads the same state.
	again, err := NewThrottle(ThrottleConfig{Now: clk.now}, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.Check(victim, attacker, false); ok {
		t.Fatal("lockout lifted by a restart")
	}
	active := again.Active()
	if len(active) == 0 {
		t.Fatal("no active lockouts listed")
	}
	n, err := again.Clear(victim)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // the pair and the account counter
		t.Fatalf("cleared %d counters, want 2", n)
	}
	if _, ok := again.Check(victim, owner, false); !ok {
		t.Fatal("refused after clear")
	}
	for k := range st.m {
		if k == pairKey(victim, attacker) || k == accountKey(victim) {
			t.Fatalf("cleared key %q still stored", k)
		}
	}
	if _, ok := st.m[pairKey("other@example.com", attacker)]; !ok {
		t.Fatal("clear removed another account's counter")
	}
}

func TestThrottleMemoryBounded(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th, err := NewThrottle(ThrottleConfig{Now: clk.now, MaxKeys: 50}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		th.Fail(fmt.Sprintf("u%d@example.com", i), attacker, false)
	}
	th.mu.Lock()
	n := len(th.locks)
	th.mu.Unlock()
	if n > 50 {
		t.Fatalf("%d counters kept, bound is 50", n)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th, _ := newTestThrottle(t, &memLocks{m: map[string]Lock{}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				acct := fmt.Sprintf("u%d@example.com", i%5)
				th.Check(acct, fmt.Sprintf("device:%d", g), g%2 == 0)
				th.Fail(acct, fmt.Sprintf("device:%d", g), g%2 == 0)
				if i%10 == 0 {
					th.Succeed(acct, fmt.Sprintf("device:%d", g))
					th.Clear(acct)
					th.Active()
				}
			}
		})
	}
	wg.Wait()
}

func TestDeviceCookie(t *testing.T) {
	tok, err := NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := tok.Device("user-1")
	if _, ok := tok.VerifyDevice("user-1", v); !ok {
		t.Fatal("own cookie rejected")
	}
	if _, ok := tok.VerifyDevice("user-2", v); ok {
		t.Fatal("cookie accepted for another account")
	}
	for _, bad := range []string{"", ".", v + "x", "abc", "x." + v[len(v)-10:]} {
		if _, ok := tok.VerifyDevice("user-1", bad); ok {
			t.Fatalf("forged cookie %q accepted", bad)
		}
	}
	other, _ := NewTokens([]byte("another-secret-another-secret-xyz"), nil)
	if _, ok := other.VerifyDevice("user-1", v); ok {
		t.Fatal("cookie accepted under another secret")
	}
}
