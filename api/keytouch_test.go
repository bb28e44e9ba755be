package api

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
)

// Of concurrent requests with a key that looks unused, one records its use;
// the next minute another may.
func TestKeyTouchClaim(t *testing.T) {
	var touches keyTouches
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	k := store.APIKey{ID: "k1", LastUsedAt: now.Add(-time.Hour)}
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if touches.claim(k, now) {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := claimed.Load(); n != 1 {
		t.Fatalf("%d of 32 concurrent requests claimed the touch, want 1", n)
	}
	if touches.claim(k, now.Add(apiKeyTouchInterval-time.Second)) {
		t.Fatal("claimed again within the minute")
	}
	if !touches.claim(k, now.Add(apiKeyTouchInterval)) {
		t.Fatal("not claimed a minute later")
	}
	if touches.claim(store.APIKey{ID: "k2", LastUsedAt: now}, now.Add(time.Second)) {
		t.Fatal("a key recorded a second ago was claimed")
	}
}
