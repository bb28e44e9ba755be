package sched

import (
	"testing"
	"time"
)

// TestCostsPickTheFaster: a batch size is first run batched, then with one
// sequence alone (to time a single forward); afterwards the faster way wins,
// and every probeEvery-th step tries the other, so a change of load or
// kernels is noticed.
func TestCostsPickTheFaster(t *testing.T) {
	var c costs
	if p := c.plan(4); p.way != wayBatch {
		t.Fatalf("an unknown batch size is not tried batched first: %+v", p)
	}
	c.recordBatch(4, 400*time.Millisecond) // 100 ms a sequence
	if p := c.plan(4); p.way != wayOneAlone {
		t.Fatalf("without a single-sequence figure, the step does not time one: %+v", p)
	}
	c.recordSingles(1, 50*time.Millisecond) // 50 ms a sequence alone
	c.recordBatch(3, 300*time.Millisecond)
	p := c.plan(4)
	if p.way != wayOneAlone || !p.probe {
		t.Fatalf("the batch gives way without timing a single forward again: %+v", p)
	}
	c.recordSingles(1, 50*time.Millisecond)
	c.recordBatch(3, 300*time.Millisecond)
	c.settle(4, p.batched)
	var batched int
	for range 2 * probeEvery {
		p := c.plan(4)
		switch p.way {
		case wayBatch:
			batched++
			if !p.probe {
				t.Fatalf("the slower batch chosen outside a probe: %+v", p)
			}
		case wayOneAlone:
			t.Fatalf("singles are faster, yet a step times one: %+v", p)
		}
	}
	if batched != 2 {
		t.Fatalf("the slower batch ran %d times in %d steps, want 2 probes", batched, 2*probeEvery)
	}
	c.recordBatch(4, 80*time.Millisecond) // the probe found it faster now
	c.recordBatch(4, 80*time.Millisecond)
	c.recordBatch(4, 80*time.Millisecond)
	if p := c.plan(4); p.way != wayBatch {
		t.Fatalf("a batch now faster (%v) than four singles (%v) is not chosen: %+v", c.batched[4], 4*c.single, p)
	}
	if p := c.plan(8); p.way != wayBatch {
		t.Fatal("another batch size is learnt on its own")
	}
}

// TestCostsBackOff: while tries of the slower way confirm the choice, they
// come half as often each time, down to one in probeMax steps; a try that
// changes the choice brings them back to one in probeEvery. A batch that
// wins is tried against one sequence alone, never against all of them.
func TestCostsBackOff(t *testing.T) {
	var c costs
	c.plan(4)
	c.recordBatch(4, 100*time.Millisecond) // 25 ms a sequence batched
	c.plan(4)
	c.recordSingles(1, 50*time.Millisecond) // 50 ms a sequence alone
	// stepsToProbe runs batch steps until one times a single forward and
	// records that try's time.
	stepsToProbe := func(single time.Duration) int {
		t.Helper()
		for n := 1; n <= 2*probeMax; n++ {
			p := c.plan(4)
			switch p.way {
			case wayOneAlone:
				c.recordSingles(1, single)
				c.recordBatch(3, 90*time.Millisecond)
				if !p.probe {
					t.Fatalf("step %d timed a single forward outside a probe", n)
				}
				c.settle(4, p.batched)
				return n
			case waySingles:
				t.Fatalf("step %d ran every sequence alone while the batch wins", n)
			}
			c.recordBatch(4, 100*time.Millisecond)
		}
		t.Fatalf("no try of a single forward in %d steps", 2*probeMax)
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
	// second try flips the choice, and the interval is short again.
	c.recordSingles(1, 4*time.Millisecond)
	if p := c.plan(4); p.way != wayBatch {
		t.Fatalf("one faster single forward flipped the choice: %+v", p)
	}
	if n := stepsToProbe(4 * time.Millisecond); n != probeMax-1 { // the plan above was a step
		t.Fatalf("a try came after %d steps, want %d", n, probeMax-1)
	}
	if p := c.plan(4); p.way != waySingles {
		t.Fatalf("single forwards now faster, yet not chosen: %+v", p)
	}
	if got := c.interval(4); got != probeEvery {
		t.Fatalf("after the choice changed the interval is %d, want %d", got, probeEvery)
	}
}

// TestCostsBurst: a burst of load elsewhere that slows the batch steps does
// not send the sequences alone on the strength of a single forward timed
// before it; the batch keeps running once a single forward timed in the
// burst shows it slowed as much.
func TestCostsBurst(t *testing.T) {
	var c costs
	c.plan(8)
	c.recordBatch(8, 30*time.Millisecond)
	if p := c.plan(8); p.way != wayOneAlone {
		t.Fatalf("no single forward timed: %+v", p)
	}
	c.recordSingles(1, 10*time.Millisecond)
	c.recordBatch(7, 27*time.Millisecond)
	var p plan
	for n := 0; ; n++ {
		if p = c.plan(8); p.way != wayBatch {
			break
		}
		if n == 10 {
			t.Fatalf("the batch, five times slower now, never tried against a single forward: %v", c.batched[8])
		}
		c.recordBatch(8, 150*time.Millisecond) // five times slower: the machine is busy
	}
	if p.way != wayOneAlone || !p.probe {
		t.Fatalf("the batch lost against an old single forward and gave way at once: %+v", p)
	}
	c.recordSingles(1, 50*time.Millisecond) // the single forward is as slow now
	c.recordBatch(7, 135*time.Millisecond)
	c.settle(8, p.batched)
	if p := c.plan(8); p.way != wayBatch || p.probe {
		t.Fatalf("the batch, still faster, is not chosen: %+v (batch %v, single %v)", p, c.batched[8], c.single)
	}
}
