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

// way is how a decode step of k sequences runs.
type way int

const (
	wayBatch   way = iota // one ForwardBatch for all k
	waySingles            // one forward of one sequence each
	// wayOneAlone runs the first sequence alone, timing a single forward,
	// and the other k-1 as one batch. It is how a batch that wins learns
	// what a single forward costs: running all k alone to find out would
	// cost k single forwards (at k=8 on engine/cpu about three batched
	// steps), this costs one.
	wayOneAlone
)

// plan is a decode step's way, and whether it tries the slower way.
type plan struct {
	way     way
	probe   bool // a try of the slower way: settle afterwards
	batched bool // what was faster before the step
}

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
	// alone: by k, the steps run single forwards (the batch lost a try).
	// The batch gives way only to a try: a batch step slowed by a burst of
	// load elsewhere, compared with a single forward timed before it, would
	// otherwise send every sequence alone until the next try.
	alone map[int]bool
}

// plan says how a decode step of k sequences should run: batched until a
// batch of k was timed (it is what should win), then with one sequence
// alone until a single forward was timed; then the faster way, trying the
// other now and then (the batch's way of trying is wayOneAlone, which is also
// how the batch confirms that it lost before the sequences go alone).
func (c *costs) plan(k int) plan {
	c.init()
	batched, known := c.faster(k)
	switch {
	case !known && batched:
		return plan{way: wayBatch, batched: true}
	case !known:
		return plan{way: wayOneAlone, batched: true}
	}
	c.steps[k]++
	probe := c.steps[k] >= c.interval(k)
	if probe {
		c.steps[k] = 0
	}
	if !batched && !c.alone[k] {
		// The batch seems slower, measured against an older single
		// forward: time one now before giving up the batch.
		return plan{way: wayOneAlone, probe: true, batched: true}
	}
	if batched {
		c.alone[k] = false
	}
	p := plan{probe: probe, batched: batched}
	switch {
	case batched && probe:
		p.way = wayOneAlone
	case batched:
		p.way = wayBatch
	case probe:
		p.way = wayBatch
	default:
		p.way = waySingles
	}
	return p
}

func (c *costs) init() {
	if c.batched == nil {
		c.batched, c.steps, c.every, c.alone = map[int]time.Duration{}, map[int]int{}, map[int]int{}, map[int]bool{}
	}
}

// faster is the way that is faster for k sequences as far as known: a batch
// until one was timed, then single forwards until one was timed; known is
// whether both have been.
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

// recordBatch folds the wall time of a batched decode step of k sequences
// into the estimates.
func (c *costs) recordBatch(k int, d time.Duration) {
	c.init()
	c.batched[k] = smooth(c.batched[k], d)
}

// recordSingles folds the wall time of k single-sequence decode forwards
// into the estimates.
func (c *costs) recordSingles(k int, d time.Duration) {
	c.single = smooth(c.single, d/time.Duration(k))
}

// settle ends a try of the slower way for k sequences: one that leaves the
// choice as it was (batched, before the try) lengthens the interval to the
// next, one that changes it shortens it to probeEvery.
func (c *costs) settle(k int, batched bool) {
	c.init()
	after, _ := c.faster(k)
	c.alone[k] = !after
	if after == batched {
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
