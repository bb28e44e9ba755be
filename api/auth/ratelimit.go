package auth

import (
	"sync"
	"time"
)

// Limiter counts failures per key (a client address, an account) in a sliding window
// and refuses a key once it has Max failures in the last Window. Only failures
// count, so a user who types their password right is never slowed down.
type Limiter struct {
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu    sync.Mutex             // guards fails
	fails map[string][]time.Time // failure times in the window, oldest first
}

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	Max    int           // failures allowed in Window
	Window time.Duration // how far back failures count
	// MaxKeys bounds memory: beyond it, expired entries are swept and then arbitrary
	// ones dropped, so a flood of distinct keys costs memory, not a crash (default 100k).
	MaxKeys int
	Now     func() time.Time // the clock (default time.Now)
}

// NewLimiter returns a limiter.
func NewLimiter(c LimiterConfig) *Limiter {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 100_000
	}
	return &Limiter{max: c.Max, window: c.Window, maxKeys: c.MaxKeys, now: c.Now, fails: map[string][]time.Time{}}
}

// Check reports whether key may try again, and if not, how long until it may.
func (l *Limiter) Check(key string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fs := l.pruneLocked(key, now)
	if len(fs) < l.max {
		return 0, true
	}
	// Blocked until enough of the oldest failures leave the window.
	return fs[len(fs)-l.max].Add(l.window).Sub(now), false
}

// CheckMax is Check with max in place of the configured Max, for limits an admin
// can change while the daemon runs. Only Max failures are kept, so max is capped there.
func (l *Limiter) CheckMax(key string, max int) (retryAfter time.Duration, ok bool) {
	max = min(max, l.max)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fs := l.pruneLocked(key, now)
	if len(fs) < max {
		return 0, true
	}
	return fs[len(fs)-max].Add(l.window).Sub(now), false
}

// Fail records a failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fs := l.pruneLocked(key, now)
	if fs == nil && len(l.fails) >= l.maxKeys {
		l.sweepLocked(now)
	}
	fs = append(fs, now)
	if len(fs) > l.max {
		fs = fs[len(fs)-l.max:]
	}
	l.fails[key] = fs
}

// Reset forgets key's failures (after a successful login).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// pruneLocked drops key's failures that left the window and returns the rest.
func (l *Limiter) pruneLocked(key string, now time.Time) []time.Time {
	fs := l.fails[key]
	i := 0
	for i < len(fs) && !fs[i].Add(l.window).After(now) {
		i++
	}
	if i == len(fs) {
		delete(l.fails, key)
		return nil
	}
	fs = fs[i:]
	l.fails[key] = fs
	return fs
}

func (l *Limiter) sweepLocked(now time.Time) {
	for k := range l.fails {
		l.pruneLocked(k, now)
	}
	for k := range l.fails {
		if len(l.fails) < l.maxKeys {
			return
		}
		delete(l.fails, k)
	}
}
