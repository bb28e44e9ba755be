package store

import (
	"testing"
	"time"
)

func TestProfileKeepAlive(t *testing.T) {
	t.Parallel()
	secs := func(n int) *int { return &n }
	dur := func(d time.Duration) *time.Duration { return &d }
	tests := []struct {
		name          string
		ttl           *int
		request, load *time.Duration
	}{
		{"default", nil, nil, nil},
		{"forever", secs(-1), dur(-1), dur(-1)},
		{"after each request", secs(0), dur(0), nil},
		{"five minutes", secs(300), dur(5 * time.Minute), dur(5 * time.Minute)},
	}
	eq := func(a, b *time.Duration) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Profile{TTLSeconds: tt.ttl}
			if got := p.KeepAlive(); !eq(got, tt.request) {
				t.Errorf("KeepAlive = %v, want %v", got, tt.request)
			}
			if got := p.LoadKeepAlive(); !eq(got, tt.load) {
				t.Errorf("LoadKeepAlive = %v, want %v", got, tt.load)
			}
		})
	}
}
