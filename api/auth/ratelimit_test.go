package auth

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(LimiterConfig{Max: 3, Window: time.Minute, Now: c.now})

	for i := range 3 {
		if _, ok := l.Check("a"); !ok {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("a")
		c.t = c.t.Add(10 * time.Second)
	}
	// Failures at 0s, 10s, 20s; now 30s: blocked until the first leaves at 60s.
	retry, ok := l.Check("a")
	if ok || retry != 30*time.Second {
		t.Fatalf("Check = %v, %v; want blocked for 30s", retry, ok)
	}
	if _, ok := l.Check("b"); !ok {
		t.Fatal("another key blocked")
	}
	c.t = c.t.Add(30 * time.Second)
	if _, ok := l.Check("a"); !ok {
		t.Fatal("still blocked after the oldest failure left the window")
	}
	l.Fail("a")
	if retry, ok := l.Check("a"); ok || retry != 10*time.Second {
		t.Fatalf("Check = %v, %v; want blocked for 10s", retry, ok)
	}
	l.Reset("a")
	if _, ok := l.Check("a"); !ok {
		t.Fatal("blocked after Reset")
	}
}

func TestLimiterBoundsKeys(t *testing.T) {
	c := &clock{t: time.Now()}
	l := NewLimiter(LimiterConfig{Max: 2, Window: time.Hour, MaxKeys: 100, Now: c.now})
	for i := range 1000 {
		l.Fail(strconv.Itoa(i))
	}
	if n := len(l.fails); n > 100 {
		t.Fatalf("%d keys kept, want at most 100", n)
	}
	c.t = c.t.Add(2 * time.Hour)
	l.Fail("new")
	for i := range 1000 {
		l.Fail("x" + strconv.Itoa(i))
	}
	if n := len(l.fails); n > 100 {
		t.Fatalf("%d keys kept after expiry, want at most 100", n)
	}
}
