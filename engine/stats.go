package engine

import (
	"sync"
	"time"
)

// lastRequests remembers each model's most recent finished generation, for the
// servers page ("last tokens/s").
type lastRequests struct {
	mu sync.Mutex // guards m
	m  map[string]lastRequest
}

type lastRequest struct {
	tokensPerSecond float64
	finished        time.Time
}

func (lr *lastRequests) record(r *Result) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.m == nil {
		lr.m = map[string]lastRequest{}
	}
	lr.m[r.Model] = lastRequest{tokensPerSecond: r.TokensPerSecond(), finished: time.Now()}
}

// LastRequest reports the decode speed and end time of id's last finished
// generation; ok is false when it has none.
func (e *Engine) LastRequest(id string) (tokensPerSecond float64, finished time.Time, ok bool) {
	e.last.mu.Lock()
	defer e.last.mu.Unlock()
	l, ok := e.last.m[id]
	return l.tokensPerSecond, l.finished, ok
}
