package sched

import (
	"testing"
	"time"
)

// TestCostsPickTheFaster: a batch size is first run batched, then singly;
// afterwards the faster way wins, and every probeEvery-th step tries the
// other, so a change of load or kernels is noticed.
func TestCostsPickTheFaster(t *testing.T) {
	var c costs
	if !c.batch(4) {
		t.Fatal("an unknown batch size is not tried batched first")
	}
	c.record(4, true, 400*time.Millisecond) // 100 ms a sequence
	if c.batch(4) {
		t.Fatal("without a single-sequence figure, the batch is chosen again")
	}
	c.record(4, false, 200*time.Millisecond) // 50 ms a sequence alone
	var batched int
	for range 2 * probeEvery {
		if c.batch(4) {
			batched++
		}
	}
	if batched != 2 {
		t.Fatalf("the slower batch ran %d times in %d steps, want 2 probes", batched, 2*probeEvery)
	}
	c.record(4, true, 80*time.Millisecond) // the probe found it faster now
	c.record(4, true, 80*time.Millisecond)
	c.record(4, true, 80*time.Millisecond)
	if !c.batch(4) {
		t.Fatalf("a batch now faster (%v) than four singles (%v) is not chosen", c.batched[4], 4*c.single)
	}
	if !c.batch(8) {
		t.Fatal("another batch size is learnt on its own")
	}
}
