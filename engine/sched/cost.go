package sched

import "time"

// probeEvery is how often (in decode steps of one size) the slower way of
// running such a step is tried again, in case the machine's load changed.
const probeEvery = 16

// costs learns whether a decode step of k sequences is faster as one
// ForwardBatch or as k forwards of one sequence each. The batch reads every
// weight once for all of them, which is what makes batching pay; but an
// executor's kernels may not reuse a weight across so few rows (engine/cpu's
// quantized products run one row at a time below 4 rows, and above that
// first unpack the weights, which costs more than it saves until about 8 to
// 16 rows). Both ways give the same logits, so the scheduler times them and
// uses the faster. Only the loop goroutine touches it.
type costs struct {
	batched map[int]time.Duration // by k: smoothed wall time of one batched step
	single  time.Duration         // smoothed wall time of one sequence's decode forward
	steps   map[int]int           // by k: decode steps run
}

// batch says whether a decode step of k sequences should run as one batch.
func (c *costs) batch(k int) bool {
	if c.batched == nil {
		c.batched, c.steps = map[int]time.Duration{}, map[int]int{}
	}
	c.steps[k]++
	b, ok := c.batched[k]
	switch {
	case !ok:
		return true // learn the batch first: it is what should win
	case c.single == 0:
		return false
	}
	faster := b < c.single*time.Duration(k)
	if c.steps[k]%probeEvery == 0 {
		return !faster
	}
	return faster
}

// record folds a step's wall time into the estimates.
func (c *costs) record(k int, batched bool, d time.Duration) {
	if batched {
		c.batched[k] = smooth(c.batched[k], d)
		return
	}
	c.single = smooth(c.single, d/time.Duration(k))
}

func smooth(old, d time.Duration) time.Duration {
	if old == 0 {
		return d
	}
	return (old*2 + d) / 3
}
