package kern

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// task is one parallel step split into chunks 0..n-1. Implementations are
// long-lived structs owned by an Exec, so submitting one does not allocate.
type task interface {
	// runChunk runs chunk c on thread tid (0 is the submitter, 1.. the
	// workers), so a task can keep one scratch buffer per thread.
	runChunk(c, tid int)
}

// spanTask is a task that can run consecutive chunks c0..c1-1 as one
// piece (a matrix's rows in one kernel call): runRanges then hands a
// thread several at a time.
type spanTask interface {
	task
	runChunks(c0, c1, tid int)
}

// Pool is a fixed set of worker goroutines that run tasks together with the
// submitting goroutine. Workers spin for a short while after each task before
// parking, because decode submits a task every few microseconds and waking a
// parked goroutine costs more than that. Chunks are handed out through an
// atomic counter (or, for runRanges, per-thread shares that the others take
// from once done with their own), so a worker that the OS deschedules (the
// machine is shared) does not hold up the others. A thread with nothing to
// do prefetches what it will read first in the product expected next
// (warm.go).
//
// Several Execs may submit concurrently; tasks run one at a time (each one
// uses every core anyway), in submission order as decided by mu.
type Pool struct {
	mu sync.Mutex // serialises tasks; guards cur, span, n and ranged

	cur    task
	span   spanTask // cur, when it runs pieces of several chunks
	n      int64
	ranged bool // chunks taken from shares, not from next (runRanges)

	// state is gen<<32 | closed<<31 | active: gen changes for every task,
	// closed is set once all its chunks are done (late workers then skip it),
	// active counts workers inside the task.
	state   atomic.Uint64
	next    atomic.Int64 // next chunk to hand out
	shares  []share      // per thread, for runRanges
	pending atomic.Int64 // chunks not yet finished

	// waiting is set while the submitter is parked on done, waiting for
	// the last chunk: whoever finishes that chunk sends it a token.
	waiting atomic.Bool
	done    chan struct{}

	// warm is the set of the step expected after the current one, for idle
	// threads to prefetch (warm.go); warmSeq counts sets published, so a
	// thread starts over on each. subWarm is the submitter's progress.
	warm    atomic.Pointer[warmSet]
	warmSeq atomic.Uint64
	subWarm warmState

	workers []*worker
	quit    atomic.Bool
	wg      sync.WaitGroup
}

type worker struct {
	tid      int
	sleeping atomic.Bool
	wake     chan struct{}
	warm     warmState
}

const (
	closedBit = 1 << 31
	genShift  = 32
	// spinFor is how long an idle worker polls before parking.
	spinFor = 200 * time.Microsecond
	// doneSpin is how long the submitter polls for the other threads' last
	// chunks before parking. Decode's chunks take microseconds, so a
	// longer wait means a prefill chunk (~1 ms) or a thread the OS has
	// descheduled: spinning then only burns a core that the late thread
	// may need (the machine is shared).
	doneSpin = 50 * time.Microsecond
)

// NewPool starts threads-1 workers (the submitter is the last thread).
// threads <= 0 means GOMAXPROCS.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{done: make(chan struct{}, 1), shares: make([]share, threads)}
	for i := 1; i < threads; i++ {
		w := &worker{tid: i, wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		p.wg.Add(1)
		go p.work(w)
	}
	return p
}

// Threads is the number of goroutines that run a task (workers + submitter).
func (p *Pool) Threads() int { return len(p.workers) + 1 }

// Close stops the workers and waits for them. Tasks must not be submitted
// after Close.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quit.Swap(true) {
		return
	}
	p.state.Add(1 << genShift)
	for _, w := range p.workers {
		if w.sleeping.Swap(false) {
			w.wake <- struct{}{}
		}
	}
	p.wg.Wait()
}

// run executes t's chunks 0..n-1 on the pool and returns when all are done.
// Each chunk goes to whichever thread asks next.
func (p *Pool) run(t task, n int) { p.start(t, n, false, nil) }

// runRanges is run for a task whose consecutive chunks read consecutive
// memory (a matrix's rows, a cache's heads): each thread takes its own
// contiguous share of the chunks front to back, so that its reads are a
// few long streams the hardware prefetchers stay on, rather than a new
// place every chunk (taken in turns, two threads' chunks interleave). A
// thread done with its share takes the other shares' last chunks one at a
// time, so one the OS deschedules still does not hold up the task. A
// spanTask's owner takes half of what is left of its share at a time, so
// chunks can be small, for a short wait at the end on the last one, while
// the owner still reads in long pieces.
func (p *Pool) runRanges(t task, n int) { p.start(t, n, true, nil) }

// runRangesWarm is runRanges that publishes ws, the step expected after
// this one, for idle threads to prefetch (warm.go). Other tasks leave the
// last set published in place: a hint outlives the short steps between
// two products.
func (p *Pool) runRangesWarm(t task, n int, ws *warmSet) { p.start(t, n, true, ws) }

func (p *Pool) start(t task, n int, ranged bool, ws *warmSet) {
	if n <= 0 {
		return
	}
	if n == 1 || len(p.workers) == 0 {
		for c := 0; c < n; c++ {
			t.runChunk(c, 0)
		}
		return
	}
	p.mu.Lock()
	if ws != nil {
		p.warm.Store(ws)
		p.warmSeq.Add(1)
	}
	p.cur, p.n, p.ranged, p.span = t, int64(n), ranged, nil
	p.next.Store(0)
	if ranged {
		p.span, _ = t.(spanTask)
		for i := range p.shares {
			lo, hi := shareFront(i, n, len(p.shares)), shareFront(i+1, n, len(p.shares))
			p.shares[i].v.Store(uint64(lo) | uint64(hi)<<32)
		}
	}
	p.pending.Store(int64(n))
	gen := p.state.Load()>>genShift + 1
	p.state.Store(gen << genShift)
	for _, w := range p.workers {
		if w.sleeping.Swap(false) {
			w.wake <- struct{}{}
		}
	}
	p.drain(0)
	p.waitDone()
	// Close the task to latecomers, then wait for joined workers to leave
	// before cur and the counters may be reused.
	for {
		v := p.state.Load()
		if p.state.CompareAndSwap(v, v|closedBit) {
			break
		}
	}
	for i := 0; p.state.Load()&(closedBit-1) != 0; i++ {
		backoff(i)
	}
	p.cur, p.span = nil, nil
	p.mu.Unlock()
}

// drain runs chunks of the current task until none are left.
func (p *Pool) drain(tid int) {
	for {
		c0, c1, ok := p.take(tid)
		if !ok {
			return
		}
		if c1-c0 == 1 {
			p.cur.runChunk(c0, tid)
		} else {
			p.span.runChunks(c0, c1, tid)
		}
		if p.pending.Add(int64(c0-c1)) == 0 && p.waiting.Swap(false) {
			p.done <- struct{}{}
		}
	}
}

// take hands thread tid its next chunks c0..c1-1: the next one in turn,
// or for runRanges the front of its own share (half of it for a
// spanTask), else the back of another's.
func (p *Pool) take(tid int) (c0, c1 int, ok bool) {
	if !p.ranged {
		c := p.next.Add(1) - 1
		return int(c), int(c) + 1, c < p.n
	}
	if c0, c1, ok := p.shares[tid].front(p.span != nil); ok {
		return c0, c1, true
	}
	for i := 1; i < len(p.shares); i++ {
		if c, ok := p.shares[(tid+i)%len(p.shares)].back(); ok {
			return c, c + 1, true
		}
	}
	return 0, 0, false
}

// shareFront is the first of n chunks in thread i's share of runRanges.
func shareFront(i, n, threads int) int { return i * n / threads }

// share is a thread's chunks not yet taken, [lo, hi) as lo | hi<<32: its
// owner takes from the front, the others from the back. Padded to a cache
// line, so that one thread's takes do not slow another's on its own share.
type share struct {
	v atomic.Uint64
	_ [56]byte
}

// front takes the first chunk, or with half the first half (rounded up).
func (s *share) front(half bool) (c0, c1 int, ok bool) {
	for {
		v := s.v.Load()
		lo, hi := uint32(v), uint32(v>>32)
		if lo >= hi {
			return 0, 0, false
		}
		k := uint32(1)
		if half {
			k = (hi - lo + 1) / 2
		}
		if s.v.CompareAndSwap(v, v+uint64(k)) {
			return int(lo), int(lo + k), true
		}
	}
}

func (s *share) back() (int, bool) {
	for {
		v := s.v.Load()
		lo, hi := uint32(v), uint32(v>>32)
		if lo >= hi {
			return 0, false
		}
		if s.v.CompareAndSwap(v, v-1<<32) {
			return int(hi - 1), true
		}
	}
}

// waitDone returns once every chunk of the current task is finished:
// spinning for doneSpin, then parked until the thread that finishes the
// last chunk wakes it.
func (p *Pool) waitDone() {
	var start time.Time
	for i := 0; p.pending.Load() != 0; i++ {
		if p.subWarm.step(p, 0) {
			continue
		}
		backoff(i)
		if i&63 != 63 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < doneSpin {
			continue
		}
		// A swap, not a store: the flag must be visible before pending is
		// read (the finisher does the mirror image, decrement then swap).
		// arm64's store-release then load-acquire keeps that order, but
		// qemu-user runs them on x86 as a plain store and load, which the
		// store buffer reorders: both sides then missed each other and the
		// submitter parked for good (make test-arm64 hung 2 times in 14).
		p.waiting.Swap(true)
		if p.pending.Load() != 0 {
			<-p.done
		} else if !p.waiting.Swap(false) {
			<-p.done // the last chunk's thread saw us waiting and sent a token: consume it
		}
		return
	}
}

func (p *Pool) work(w *worker) {
	defer p.wg.Done()
	var seen uint64 // generation of the last task this worker looked at
	for {
		v := p.waitTask(w, seen)
		if p.quit.Load() {
			return
		}
		seen = v >> genShift
		if p.join(seen) {
			p.drain(w.tid)
			p.state.Add(^uint64(0)) // active--
		}
	}
}

// join enters task gen unless it is already closed or superseded.
func (p *Pool) join(gen uint64) bool {
	for {
		v := p.state.Load()
		if v>>genShift != gen || v&closedBit != 0 {
			return false
		}
		if p.state.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// waitTask returns the state once its generation differs from seen:
// spinning first, then parked on w.wake.
func (p *Pool) waitTask(w *worker, seen uint64) uint64 {
	start := time.Now()
	for i := 0; ; i++ {
		v := p.state.Load()
		if v>>genShift != seen {
			return v
		}
		if w.warm.step(p, w.tid) {
			continue
		}
		if i&63 == 63 {
			if time.Since(start) > spinFor {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		w.sleeping.Swap(true) // a swap for the reason in waitDone
		v := p.state.Load()
		if v>>genShift != seen {
			if !w.sleeping.Swap(false) {
				<-w.wake // the submitter saw us asleep and sent a token: consume it
			}
			return v
		}
		<-w.wake
	}
}

// backoff spins briefly, then yields the processor: the awaited workers may
// need it on a machine with fewer cores than goroutines.
func backoff(i int) {
	if i > 100 {
		runtime.Gosched()
	}
}
