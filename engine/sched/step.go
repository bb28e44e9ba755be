package sched

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// part is one slot's share of a step: n tokens of its call from c.off on.
type part struct {
	sl *Slot
	c  *call
	n  int
}

// pollAfterStep is how long after a step the loop polls for the running
// requests' next calls, yielding the processor to them, before it blocks.
// They come within a few hundred microseconds (sampling, sending the token
// on), and a loop that blocks for that long lets its core go idle: on a
// 2-vCPU VM (AMD Zen 5, session 14) the steps that followed such gaps ran 7%
// slower (4 requests of 128 tokens, Q8: 20.7 against 19.2 ms a step, gaps
// 0.17 ms either way; aggregate +8 to +14% at 4 and 8 requests, nothing at
// 1, whose next call comes within 0.05 ms). The polling costs at most this
// much CPU a step, and nothing once no request is running.
const pollAfterStep = 500 * time.Microsecond

// loop runs steps until the scheduler closes.
func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.done)
	var last time.Duration
	var lastEnd time.Time
	for {
		s.mu.Lock()
		straggle := s.cfg.Straggle
		s.mu.Unlock()
		if straggle == 0 {
			straggle = min(last, maxStraggle)
		}
		parts, ok := s.next(ctx, straggle, lastEnd)
		if !ok {
			s.failPending(ErrClosed)
			return
		}
		t0 := time.Now()
		s.step(ctx, parts)
		lastEnd = time.Now()
		last = lastEnd.Sub(t0)
	}
}

// next waits until a step can run and picks its parts: when every running
// slot (suspended ones aside) has a call waiting, or when straggle has passed
// since the first did. It polls until pollAfterStep past lastEnd, then blocks.
func (s *Scheduler) next(ctx context.Context, straggle time.Duration, lastEnd time.Time) ([]part, bool) {
	var deadline time.Time // zero until a call is waiting
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		s.mu.Lock()
		s.dropCancelledLocked()
		ready, active := 0, 0
		for _, sl := range s.running {
			if sl.suspended {
				continue
			}
			active++
			if sl.call != nil {
				ready++
			}
		}
		if ready > 0 && deadline.IsZero() && straggle >= 0 {
			deadline = time.Now().Add(straggle)
		}
		if ready > 0 && (ready == active || (!deadline.IsZero() && !time.Now().Before(deadline))) {
			parts := s.pickLocked()
			s.mu.Unlock()
			return parts, true
		}
		s.mu.Unlock()
		if active > 0 && time.Since(lastEnd) < pollAfterStep {
			select {
			case <-ctx.Done():
				return nil, false
			case <-s.wake:
			default:
				runtime.Gosched()
			}
			continue
		}
		var expired <-chan time.Time
		if !deadline.IsZero() {
			timer.Reset(time.Until(deadline))
			expired = timer.C
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-s.wake:
		case <-expired:
		}
		timer.Stop()
	}
}

// dropCancelledLocked answers the calls whose request has ended: they leave
// before the step, and their slot is free as soon as the request releases it.
func (s *Scheduler) dropCancelledLocked() {
	for _, sl := range s.running {
		if c := sl.call; c != nil && c.ctx.Err() != nil {
			sl.call = nil
			c.res <- c.ctx.Err()
		}
	}
}

// pickLocked chooses the step: every waiting decode call (one token each),
// then prompt chunks up to the chunk size, of the callers running the fewest
// requests, in arrival order. Without a batcher the step is one slot's call,
// the slots taking turns. Suspended slots wait.
func (s *Scheduler) pickLocked() []part {
	if s.batcher == nil {
		n := len(s.running)
		for k := range n {
			i := (s.rr + k) % n
			if c := s.running[i].call; c != nil && !s.running[i].suspended {
				s.rr = i + 1
				return []part{{sl: s.running[i], c: c, n: min(len(c.tokens)-c.off, s.cfg.Chunk)}}
			}
		}
		return nil
	}
	var parts, prompts []part
	for _, sl := range s.running {
		c := sl.call
		switch {
		case c == nil || sl.suspended:
		case len(c.tokens)-c.off == 1:
			parts = append(parts, part{sl: sl, c: c, n: 1})
		default:
			prompts = append(prompts, part{sl: sl, c: c})
		}
	}
	// A caller that runs fewer requests prefills first: a newcomer's prompt
	// does not wait behind the chunks of a caller that already holds slots.
	held := map[string]int{}
	for _, sl := range s.running {
		if !sl.suspended {
			held[sl.caller]++
		}
	}
	slices.SortFunc(prompts, func(a, b part) int {
		return cmp.Or(cmp.Compare(held[a.sl.caller], held[b.sl.caller]), cmp.Compare(a.c.order, b.c.order))
	})
	budget := s.cfg.Chunk
	for _, p := range prompts {
		// Nor does it share its step with theirs: its first token then waits
		// for its own prompt only.
		if budget == 0 || held[p.sl.caller] > held[prompts[0].sl.caller] {
			break
		}
		p.n = min(len(p.c.tokens)-p.c.off, budget)
		budget -= p.n
		parts = append(parts, p)
	}
	return parts
}

// step runs parts through one forward pass (or, for decode steps the batch
// would make slower, one each; or, to time a single forward, the first alone
// and the rest batched: see costs) and answers the calls it completes.
func (s *Scheduler) step(ctx context.Context, parts []part) {
	logits := make([][]float32, len(parts))
	errs := make([]error, len(parts))
	toks := make([][]int32, len(parts))
	decode := true // every part is one token
	for i, p := range parts {
		toks[i] = p.c.tokens[p.c.off : p.c.off+p.n]
		decode = decode && p.n == 1
	}
	// Alone, a call's own context can stop a long prompt chunk.
	alone := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			logits[i], errs[i] = parts[i].c.seq.Forward(parts[i].c.ctx, toks[i])
		}
	}
	// together runs parts[lo:hi] as one batch; false when they ran alone.
	together := func(lo, hi int) bool {
		if hi-lo < 2 {
			alone(lo, hi)
			return false
		}
		seqs := make([]model.Sequence, hi-lo)
		for i := range seqs {
			seqs[i] = parts[lo+i].c.seq
		}
		out, err := s.batcher.ForwardBatch(ctx, seqs, toks[lo:hi])
		if err != nil {
			// No sequence has advanced: run each alone, so only the one at
			// fault (a full cache, say) fails.
			alone(lo, hi)
			return false
		}
		copy(logits[lo:hi], out)
		return true
	}
	k := len(parts)
	pl := plan{way: wayBatch}
	switch {
	case k == 1 || s.batcher == nil:
		pl.way = waySingles
	case decode && s.plan != nil:
		pl = s.plan(k)
	case decode:
		pl = s.costs.plan(k)
	}
	passes, batch := k, 1 // forward passes, and the largest
	t0 := time.Now()
	switch pl.way {
	case waySingles:
		alone(0, k)
		if decode {
			s.costs.recordSingles(k, time.Since(t0))
		}
	case wayBatch:
		if together(0, k) {
			passes, batch = 1, k
			if decode {
				s.costs.recordBatch(k, time.Since(t0))
			}
		}
	case wayOneAlone:
		alone(0, 1)
		t1 := time.Now()
		if errs[0] == nil { // a forward that failed (a cancelled call, say) took no measure
			s.costs.recordSingles(1, t1.Sub(t0))
		}
		if together(1, k) {
			passes, batch = 2, k-1
			s.costs.recordBatch(k-1, time.Since(t1))
		} else {
			s.costs.recordSingles(k-1, time.Since(t1))
		}
	}
	if pl.probe {
		s.costs.settle(k, pl.batched)
	}
	busy := time.Since(t0)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Busy += busy
	s.stats.Steps += uint64(passes)
	s.stats.StepSeqs += uint64(k)
	s.stats.LastBatch = batch
	s.stats.MaxBatch = max(s.stats.MaxBatch, batch)
	for i, p := range parts {
		if errs[i] != nil {
			p.sl.call = nil
			p.c.res <- errs[i]
			continue
		}
		s.stats.Tokens += uint64(p.n)
		p.c.off += p.n
		if p.c.off < len(p.c.tokens) {
			continue // more of the prompt in later steps
		}
		p.sl.logits = append(p.sl.logits[:0], logits[i]...)
		p.sl.call = nil
		p.c.res <- nil
	}
}

// failPending answers every waiting call with err (the scheduler closes).
func (s *Scheduler) failPending(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.running {
		if c := sl.call; c != nil {
			sl.call = nil
			c.res <- err
		}
	}
}
