//go:build !race

package loadtest

import (
	"testing"
	"time"
)

// TestFairTTFT runs issue #27's two-user load through the real API: while user A
// keeps 32 long streamed requests in flight, every short request of user B is
// answered, by taking a slot from A (a suspension), while A's requests go on.
// It does not assert the time figures: performance is measured by benchmarks,
// not timed tests, and BenchmarkFairTTFT reports B's p50/p95 alone and under
// load (the bound: p95 within 2x alone). The figures are logged here too.
//
// What separates the two figures: under load, B's request is admitted at once
// (one of A's is suspended), then waits for the step in flight (A's decode
// tokens, or a chunk of a new A request's prompt: up to --prefill-chunk
// tokens, about as long as B's own prompt here) and runs its prompt beside
// A's decode tokens. Without per-step sharing B waits for one of A's 256-token
// answers to end (about 80x its time alone); the scheduler's own tests
// (engine/sched) check the policy exactly.
//
// Without the race detector, which slows the HTTP side far more than the steps.
func TestFairTTFT(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	checkGoroutines(t)
	r := startFair(t, 0)
	run := r.measure(t, 20, 250*time.Millisecond)
	if t.Failed() {
		return
	}
	solo, loaded := percentile(run.solo, 95), percentile(run.loaded, 95)
	t.Logf("B's time to first token p50/p95 alone %v/%v, under A's load %v/%v (%.2fx); A got %d chunks in %v; %d suspensions",
		percentile(run.solo, 50).Round(time.Millisecond), solo.Round(time.Millisecond),
		percentile(run.loaded, 50).Round(time.Millisecond), loaded.Round(time.Millisecond),
		float64(loaded)/float64(solo), run.longTokens, run.window.Round(time.Millisecond), run.stats.Suspensions)
	if run.stats.Suspensions == 0 {
		t.Fatalf("B's requests never took a slot from A's: %+v", run.stats)
	}
	if run.longTokens == 0 {
		t.Fatal("A's requests made no progress while B's ran")
	}
}
