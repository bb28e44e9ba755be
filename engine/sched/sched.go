package sched

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Defaults for the zero values of Config.
const (
	DefaultSlots = 4
	// DefaultChunk keeps a step that carries a prompt chunk within a few
	// decode steps' time on a small CPU, as llama-server's 512-token
	// micro-batch does on faster machines.
	DefaultChunk = 128
	// maxStraggle bounds how long a step waits for slots still sampling.
	maxStraggle = 50 * time.Millisecond
)

// ErrClosed is returned once the scheduler is closed (its model unloads).
var ErrClosed = errors.New("sched: closed")

// Config sets a scheduler's limits.
type Config struct {
	Slots int // sequences that run at once; 0: DefaultSlots
	Chunk int // prompt tokens prefilled per step; 0: DefaultChunk
	// Straggle is how long a step waits for running slots that are still
	// sampling. 0: as long as the last step took, at most 50 ms; negative: until
	// every running slot has its call in (lockstep, which tests use to make
	// batches whole).
	Straggle time.Duration
}

func (c Config) withDefaults() Config {
	if c.Slots <= 0 {
		c.Slots = DefaultSlots
	}
	if c.Chunk <= 0 {
		c.Chunk = DefaultChunk
	}
	return c
}

// Scheduler batches the forward calls of one runner's sequences. One goroutine
// (loop) runs the steps; Admit, Release and Forward talk to it through the
// state below.
type Scheduler struct {
	runner  model.Runner
	batcher model.Batcher // nil: one slot per step

	mu      sync.Mutex
	cfg     Config               // guarded by mu
	running []*Slot              // guarded by mu; admitted (stepped or suspended), in admission order
	waiting map[string][]*waiter // guarded by mu; by caller, oldest first
	order   []string             // guarded by mu; callers with waiters, next to admit first
	closed  bool                 // guarded by mu
	arrived uint64               // guarded by mu; numbers calls in arrival order
	stats   Stats                // guarded by mu; counters only
	rr      int                  // guarded by mu; next slot of a one-slot step
	onWait  func()               // tests: called when a request starts waiting for a slot
	plan    func(k int) plan     // tests: chooses a decode step's way instead of costs
	costs   costs                // owned by the loop goroutine

	wake   chan struct{} // a call, a release or a cancellation happened
	cancel context.CancelFunc
	done   chan struct{} // closed when loop has ended
}

// New starts a scheduler over r. Close stops it.
func New(r model.Runner, cfg Config) *Scheduler {
	s := &Scheduler{runner: r, cfg: cfg.withDefaults(), waiting: map[string][]*waiter{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.batcher, _ = r.(model.Batcher)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.loop(ctx)
	return s
}

// SetConfig applies new limits at once: more slots admit waiters or resume
// suspended requests, fewer suspend the newest running ones (they keep their
// KV and resume as the others finish).
func (s *Scheduler) SetConfig(cfg Config) {
	s.mu.Lock()
	s.cfg = cfg.withDefaults()
	s.admitLocked()
	s.mu.Unlock()
	s.poke()
}

// Close fails the waiting requests and stops the loop. The pool closes a model
// only when no request holds it, so no slot is running by then.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, q := range s.waiting {
		for _, w := range q {
			close(w.ready) // no slot: Admit reports ErrClosed
		}
	}
	s.waiting, s.order = map[string][]*waiter{}, nil
	s.mu.Unlock()
	s.cancel()
	<-s.done
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// waiter is a request waiting for a slot.
type waiter struct {
	caller string
	ready  chan *Slot // buffered; closed without a slot when the scheduler closes
}

// Admit waits for a slot for caller (any string naming who asks: requests of
// the same caller are admitted in order, different callers in turn). The slot
// must be released.
func (s *Scheduler) Admit(ctx context.Context, caller string) (*Slot, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if len(s.order) == 0 && s.wouldRunLocked(caller) {
		sl := s.startLocked(caller)
		s.rebalanceLocked()
		s.mu.Unlock()
		return sl, nil
	}
	w := &waiter{caller: caller, ready: make(chan *Slot, 1)}
	if len(s.waiting[caller]) == 0 {
		s.order = append(s.order, caller)
	}
	s.waiting[caller] = append(s.waiting[caller], w)
	s.admitLocked() // others wait, but this caller's request may run at once
	onWait := s.onWait
	s.mu.Unlock()
	select {
	case sl, ok := <-w.ready:
		if !ok {
			return nil, ErrClosed
		}
		return sl, nil
	default:
	}
	if onWait != nil {
		onWait()
	}

	select {
	case sl, ok := <-w.ready:
		if !ok {
			return nil, ErrClosed
		}
		return sl, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if s.removeLocked(w) {
		s.mu.Unlock()
		return nil, ctx.Err()
	}
	s.mu.Unlock()
	if sl, ok := <-w.ready; ok { // granted as the context ended
		sl.Release()
	}
	return nil, ctx.Err()
}

// removeLocked takes w out of the queue; false when it was already granted.
func (s *Scheduler) removeLocked(w *waiter) bool {
	q := s.waiting[w.caller]
	for i, x := range q {
		if x != w {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if len(q) > 0 {
			s.waiting[w.caller] = q
			return true
		}
		delete(s.waiting, w.caller)
		for k, c := range s.order {
			if c == w.caller {
				s.order = append(s.order[:k:k], s.order[k+1:]...)
				break
			}
		}
		return true
	}
	return false
}

func (s *Scheduler) startLocked(caller string) *Slot {
	sl := &Slot{s: s, caller: caller}
	s.running = append(s.running, sl)
	s.stats.Admitted++
	return sl
}

// admitLocked admits the waiting requests that would run (see share): the
// first such caller in order gets its oldest request in, then goes to the back
// if it has more waiting. Then it suspends and resumes to match the shares.
func (s *Scheduler) admitLocked() {
	for k := 0; k < len(s.order); {
		c := s.order[k]
		if !s.wouldRunLocked(c) {
			k++
			continue
		}
		s.order = append(s.order[:k:k], s.order[k+1:]...)
		q := s.waiting[c]
		w := q[0]
		if len(q) > 1 {
			s.waiting[c] = q[1:]
			s.order = append(s.order, c)
		} else {
			delete(s.waiting, c)
		}
		w.ready <- s.startLocked(c)
		k = 0 // the shares changed: the callers before c may run now
	}
	s.rebalanceLocked()
}

// Slot is one admitted request: its forward calls go through the scheduler.
// It is used by one goroutine at a time.
type Slot struct {
	s      *Scheduler
	caller string
	call   *call     // guarded by s.mu; the forward call waiting for a step
	gone   bool      // guarded by s.mu; released
	logits []float32 // the last call's logits, owned by the slot

	// suspended: beyond its caller's share (see share), the slot keeps its
	// sequence but its call waits. Guarded by s.mu.
	suspended bool
}

// call is one Forward waiting for (or part way through) steps.
type call struct {
	ctx    context.Context
	seq    model.Sequence
	tokens []int32
	off    int    // tokens already run
	order  uint64 // arrival, for prefill order
	res    chan error
}

// Forward appends tokens to seq in the next steps, like seq.Forward, and
// returns the logits of the last one (valid until the slot's next Forward).
// A prompt longer than the chunk size takes several steps.
func (sl *Slot) Forward(ctx context.Context, seq model.Sequence, tokens []int32) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, errors.New("sched: forward of no tokens")
	}
	c := &call{ctx: ctx, seq: seq, tokens: tokens, res: make(chan error, 1)}
	s := sl.s
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, ErrClosed
	case sl.gone || sl.call != nil:
		s.mu.Unlock()
		return nil, errors.New("sched: forward on a released or busy slot")
	}
	s.arrived++
	c.order = s.arrived
	sl.call = c
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.poke) // a cancelled call leaves before the next step
	defer stop()
	s.poke()
	if err := <-c.res; err != nil {
		return nil, err
	}
	return sl.logits, nil
}

// Release gives the slot back (once; later calls do nothing). A suspended
// request resumes, or a waiting one takes it, at once.
func (sl *Slot) Release() {
	s := sl.s
	s.mu.Lock()
	if sl.gone {
		s.mu.Unlock()
		return
	}
	sl.gone = true
	for i, x := range s.running {
		if x == sl {
			s.running = append(s.running[:i:i], s.running[i+1:]...)
			break
		}
	}
	if !s.closed {
		s.admitLocked()
	}
	s.mu.Unlock()
	s.poke()
}

// Stats is a snapshot of a scheduler's state and counters.
type Stats struct {
	Slots     int    // configured
	Running   int    // admitted requests that the steps advance
	Suspended int    // admitted requests beyond their caller's share, for now (see share)
	Waiting   int    // requests waiting for a slot
	LastBatch int    // sequences in the last forward pass
	MaxBatch  int    // sequences in the largest forward pass
	Steps     uint64 // forward passes run
	StepSeqs  uint64 // sum over passes of their sequences (StepSeqs/Steps is the mean batch)
	Tokens    uint64 // tokens run, prompt and decode
	// Busy is the wall time spent in forward passes: the rest of a span is
	// the time between steps (waiting for calls, handing results over).
	Busy     time.Duration
	Admitted uint64 // requests admitted
	// Suspensions counts the times a running request was suspended to give
	// its caller's slot to another caller.
	Suspensions uint64
	// Callers are the figures of each caller with a request, by caller.
	Callers map[string]CallerStats
}

// Stats returns the current figures.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Slots = s.cfg.Slots
	st.Callers = s.callersLocked()
	for _, c := range st.Callers {
		st.Running += c.Running
		st.Suspended += c.Suspended
		st.Waiting += c.Waiting
	}
	return st
}
