package sched

// Fair shares of the slots between callers.
//
// Admission round-robin alone is not enough: once one caller's requests hold
// every slot, another caller's request waits until one of them ends, which for
// long answers takes seconds (issue #27: 8 s for a one-token probe behind 40
// long requests). So the slots are shared at every step: each caller with
// admitted requests gets an equal share of the Config.Slots sequences a step
// runs (water-filling: one each in turn, oldest caller first, then a second
// each, and so on), its oldest requests first. A request beyond its caller's
// share is suspended: it keeps its sequence and KV cache, its forward call
// waits, and it resumes, where it stopped, as soon as the shares allow (a
// request ends, or its caller's share grows). A newcomer is admitted at once
// when its request would run, which means taking a share from a caller holding
// more than one slot; the newest request of the caller with the most slots is
// the one suspended. Its prompt goes in the next step, beside the others'
// decode tokens but without the prompt chunks of callers running more requests
// (pickLocked), so its first token waits for the step in flight and its own
// prompt, not for anyone's answer.
//
// Suspending rather than cancelling keeps every guarantee of a request: its
// tokens are the same as alone (its KV is untouched), and its answer is only
// delayed. It costs memory: a suspended request's KV stays allocated (and
// charged to the pool), so admission stops at maxHeld sequences.
//
// With more callers than slots, or one slot, nobody is suspended for a
// newcomer: the waiting callers are admitted in turn as slots free.

// maxHeld bounds the admitted sequences (running or suspended) of a scheduler
// with slots slots: a newcomer may push at most this many sequences' KV into
// memory before admission waits for a slot to free.
func maxHeld(slots int) int { return 2 * slots }

// share says which of the admitted requests run, given the caller of each in
// admission order: at most slots of them, shared between callers as above.
func share(callers []string, slots int) []bool {
	run := make([]bool, len(callers))
	if len(callers) <= slots {
		for i := range run {
			run[i] = true
		}
		return run
	}
	// byCaller lists each caller's requests (indices, oldest first), callers
	// in the order of their oldest request.
	var order []string
	byCaller := map[string][]int{}
	for i, c := range callers {
		if _, ok := byCaller[c]; !ok {
			order = append(order, c)
		}
		byCaller[c] = append(byCaller[c], i)
	}
	for k, left := 0, slots; left > 0; k++ {
		for _, c := range order {
			if q := byCaller[c]; k < len(q) && left > 0 {
				run[q[k]] = true
				left--
			}
		}
	}
	return run
}

// wouldRunLocked says whether one more request of caller would run at once if
// admitted now (and admission has room for its KV).
func (s *Scheduler) wouldRunLocked(caller string) bool {
	n := len(s.running)
	if n < s.cfg.Slots {
		return true
	}
	if n >= maxHeld(s.cfg.Slots) {
		return false
	}
	callers := make([]string, n+1)
	for i, sl := range s.running {
		callers[i] = sl.caller
	}
	callers[n] = caller
	return share(callers, s.cfg.Slots)[n]
}

// rebalanceLocked suspends and resumes the admitted requests to match the
// shares, after the running set or the slot count changed.
func (s *Scheduler) rebalanceLocked() {
	callers := make([]string, len(s.running))
	for i, sl := range s.running {
		callers[i] = sl.caller
	}
	changed := false
	for i, run := range share(callers, s.cfg.Slots) {
		sl := s.running[i]
		if sl.suspended == !run {
			continue
		}
		sl.suspended = !run
		changed = true
		if !run {
			s.stats.Suspensions++
		}
	}
	if changed {
		s.poke() // the step loop waits for a different set of calls
	}
}

// CallerStats are one caller's requests in a scheduler.
type CallerStats struct {
	Running   int // admitted and stepped
	Suspended int // admitted, beyond the caller's share for now
	Waiting   int // not admitted yet
}

// callersLocked counts each caller's requests.
func (s *Scheduler) callersLocked() map[string]CallerStats {
	m := map[string]CallerStats{}
	for _, sl := range s.running {
		c := m[sl.caller]
		if sl.suspended {
			c.Suspended++
		} else {
			c.Running++
		}
		m[sl.caller] = c
	}
	for caller, q := range s.waiting {
		c := m[caller]
		c.Waiting += len(q)
		m[caller] = c
	}
	return m
}
