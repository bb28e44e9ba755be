package api

import (
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

// TestPoolEventsAndHits feeds pool events to the metrics directly: load outcomes,
// evictions by reason, and the hit/miss decision around a reload.
func TestPoolEventsAndHits(t *testing.T) {
	m := newTestServer(t).metrics
	gen := store.AuditEvent{Model: "a/m", PromptTokens: 3, CompletionTokens: 4, TTFTMS: 10}

	before := m.poolSeq()
	m.poolEvent(pool.Event{Kind: pool.KindLoading, Model: "a/m"})
	m.poolEvent(pool.Event{Kind: pool.KindReady, Model: "a/m", Duration: 2 * time.Second})
	m.generation(gen, time.Second, before) // started before the model was ready: a miss
	started := m.poolSeq()
	m.generation(gen, time.Second, started) // a hit
	m.poolEvent(pool.Event{Kind: pool.KindEvicted, Model: "a/m", Reason: pool.ReasonMemory})
	m.poolEvent(pool.Event{Kind: pool.KindUnloading, Model: "a/m", Reason: pool.ReasonMemory})
	m.poolEvent(pool.Event{Kind: pool.KindUnloaded, Model: "a/m", Reason: pool.ReasonMemory})
	m.generation(gen, time.Second, started) // its model went away meanwhile: a miss
	m.poolEvent(pool.Event{Kind: pool.KindError, Model: "b/m", Err: "damaged"})
	m.generation(store.AuditEvent{Model: "b/m"}, time.Second, m.poolSeq()) // refused before running: not counted

	for name, got := range map[string]float64{
		"hits":             m.poolRequests.With("hit").Value(),
		"misses":           m.poolRequests.With("miss").Value(),
		"loads ready":      m.poolLoads.With("ready").Value(),
		"loads failed":     m.poolLoads.With("error").Value(),
		"evictions memory": m.evictions.With(pool.ReasonMemory).Value(),
		"unloads memory":   m.unloads.With(pool.ReasonMemory).Value(),
		"tokens":           m.completionTokens.With("a/m").Value(),
	} {
		want := map[string]float64{"hits": 1, "misses": 2, "loads ready": 1, "loads failed": 1,
			"evictions memory": 1, "unloads memory": 1, "tokens": 12}[name]
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if n := m.speed.With("a/m").Count(); n != 3 {
		t.Errorf("decode speeds observed %d, want 3", n)
	}
	if n := m.loadSeconds.With().Count(); n != 1 {
		t.Errorf("load durations observed %d, want 1", n)
	}
}
