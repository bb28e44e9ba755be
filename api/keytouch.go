package api

import (
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

const ctxKeyTouch = "auth.key_touch"

// keyTouches decides which request records an API key's use. The record is a
// bbolt write with its fsync; when every request whose key looked unused for a
// minute wrote it before starting, 32 concurrent streams queued behind 32
// fsyncs once a minute (issue #24). Now the first such request claims the
// minute and writes after its handler returned, off the way to the first byte.
type keyTouches struct {
	mu   sync.Mutex
	last map[string]time.Time // guarded by mu; when a request last claimed the key
}

// maxKeyTouches bounds the claims kept: past it, those older than the interval go.
const maxKeyTouches = 4096

// claim reports whether the request that used key at now should record it.
func (t *keyTouches) claim(k store.APIKey, now time.Time) bool {
	if now.Sub(k.LastUsedAt) < apiKeyTouchInterval {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[k.ID]; ok && now.Sub(last) < apiKeyTouchInterval {
		return false
	}
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	if len(t.last) >= maxKeyTouches {
		for id, at := range t.last {
			if now.Sub(at) >= apiKeyTouchInterval {
				delete(t.last, id)
			}
		}
	}
	t.last[k.ID] = now
	return true
}

// keyTouch is a claimed record of an API key's use, written once the request ends.
type keyTouch struct {
	id string
	at time.Time
}

// claimKeyTouch lets this request record k's use if no other does this minute.
func (s *Server) claimKeyTouch(c echo.Context, k store.APIKey) {
	if now := s.now(); s.keyTouches.claim(k, now) {
		c.Set(ctxKeyTouch, keyTouch{id: k.ID, at: now})
	}
}

// touchClaimedKey writes the use this request claimed, if any.
func (s *Server) touchClaimedKey(c echo.Context) {
	if t, ok := c.Get(ctxKeyTouch).(keyTouch); ok {
		if err := s.store.APIKeys().Touch(t.id, t.at); err != nil {
			s.log.Warn("record api key use", "key", t.id, "err", err)
		}
	}
}
