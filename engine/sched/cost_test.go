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

// TestCostsBackOff: while tries of the slower way confirm the choice, they
// come half as often each time, down to one in probeMax steps; a try that
// changes the choice brings them back to one in probeEvery.
func TestCostsBackOff(t *testing.T) {
	var c costs
	c.batch(4)
	c.record(4, true, 100*time.Millisecond) // 25 ms a sequence batched
	c.batch(4)
	c.record(4, false, 200*time.Millisecond) // 50 ms a sequence alone
	// stepsToProbe runs batch steps until one tries single forwards and
	// records that try's time.
	stepsToProbe := func(single time.Duration) int {
		t.Helper()
		for n := 1; n <= 2*probeMax; n++ {
			if !c.batch(4) {
				c.record(4, false, 4*single)
				return n
			}
			c.record(4, true, 100*time.Millisecond)
		}
		t.Fatalf("no try of single forwards in %d steps", 2*probeMax)
		return 0
	}
	for want := probeEvery; want <= probeMax; want *= 2 {
		if n := stepsToProbe(50 * time.Millisecond); n != want {
			t.Fatalf("a try came after %d steps, want %d", n, want)
		}
	}
	if n := stepsToProbe(50 * time.Millisecond); n != probeMax {
		t.Fatalf("the interval grew past probeMax: %d steps", n)
	}
	// Single forwards got much faster (another kernel set, less load): the
	// choice flips after enough tries, and the interval is short again.
	for range 8 {
		c.record(4, false, 4*time.Millisecond)
	}
	if c.batch(4) {
		t.Fatal("single forwards now faster, yet a batch is chosen")
	}
	if got := c.interval(4); got != probeEvery {
		t.Fatalf("after the choice changed the interval is %d, want %d", got, probeEvery)
	}
}
