package sched

import "time"

// probeEvery is how often (in decode steps of one size) the slower way of
// running such a step is first tried again, in case the machine's load
// changed; each try that confirms the choice doubles the interval, up to
// probeMax, so that a batch that keeps winning (engine/cpu's batched
// kernels make a decode step of 4 sequences about twice as fast per
// sequence) pays for a try of the slower way about once in probeMax steps
// rather than once in probeEvery.
const (
	probeEvery = 16
	probeMax   = 512
)

// costs learns whether a decode step of k sequences is faster as one
// ForwardBatch or as k forwards of one sequence each. The batch reads every
// weight once for all of them, which is what makes batching pay; but an
// executor's kernels may not reuse a weight across the rows (engine/cpu's
// half-float products below 4 rows run one row at a time, for instance).
// Both ways give the same logits (to float rounding), so the scheduler times
// them and uses the faster. Only the loop goroutine touches it.
type costs struct {
	batched map[int]time.Duration // by k: smoothed wall time of one batched step
	single  time.Duration         // smoothed wall time of one sequence's decode forward
	steps   map[int]int           // by k: decode steps since the last try of the slower way
	every   map[int]int           // by k: steps between tries of the slower way
}

// batch says whether a decode step of k sequences should run as one batch.
func (c *costs) batch(k int) bool {
	if c.batched == nil {
		c.batched, c.steps, c.every = map[int]time.Duration{}, map[int]int{}, map[int]int{}
	}
	faster, known := c.faster(k)
	if !known {
		return faster
	}
	c.steps[k]++
	if c.steps[k] >= c.interval(k) {
		c.steps[k] = 0
		return !faster
	}
	return faster
}

// faster is the way that is faster for k sequences as far as known: a batch
// until one was timed (it is what should win), then single forwards until
// one was timed; known is whether both have been.
func (c *costs) faster(k int) (batched, known bool) {
	b, ok := c.batched[k]
	switch {
	case !ok:
		return true, false
	case c.single == 0:
		return false, false
	}
	return b < c.single*time.Duration(k), true
}

func (c *costs) interval(k int) int {
	if n := c.every[k]; n > 0 {
		return n
	}
	return probeEvery
}

// record folds a step's wall time into the estimates. A try of the slower
// way that leaves the choice as it was lengthens the interval to the next.
func (c *costs) record(k int, batched bool, d time.Duration) {
	before, known := c.faster(k)
	if batched {
		c.batched[k] = smooth(c.batched[k], d)
	} else {
		c.single = smooth(c.single, d/time.Duration(k))
	}
	if !known || batched == before {
		return
	}
	if after, _ := c.faster(k); after == before {
		c.every[k] = min(2*c.interval(k), probeMax)
	} else {
		c.every[k] = probeEvery
	}
}

func smooth(old, d time.Duration) time.Duration {
	if old == 0 {
		return d
	}
	return (old*2 + d) / 3
}
