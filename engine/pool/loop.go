package pool

import (
	"fmt"
	"runtime/debug"
	"slices"
	"time"
)

// run is the only goroutine that touches the pool's state. Every message is
// handled, then drain brings the state in line with the rules (grants,
// placements, expiries, limits). It ends once shutting down and nothing is
// loaded, closing or running in the background.
func (p *Pool) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for !p.finished() {
		var wake <-chan time.Time
		if d, ok := p.nextWake(); ok {
			timer.Reset(d)
			wake = timer.C
		} else {
			timer.Stop()
		}
		select {
		case m := <-p.inbox:
			p.handle(m)
		case <-wake:
		}
		p.drain()
	}
	timer.Stop()
	p.cancel()
	p.events.close()
	close(p.done)
}

func (p *Pool) finished() bool {
	return p.shutting && len(p.models) == 0 && len(p.closing) == 0 && p.workers == 0
}

func (p *Pool) handle(m any) {
	switch m := m.(type) {
	case acquireMsg:
		p.onAcquire(m)
	case loadMsg:
		p.onLoad(m)
	case unloadMsg:
		p.onUnload(m)
	case growMsg:
		p.onGrow(m)
	case shrinkMsg:
		p.onShrink(m)
	case cancelMsg:
		p.onCancel(m.w)
		close(m.done)
	case releaseMsg:
		p.onRelease(m.l, m.at)
	case pinMsg:
		m.reply <- p.onPin(m.id, m.pinned)
	case statusMsg:
		m.reply <- p.status()
	case memoryMsg:
		m.reply <- p.memory()
	case configMsg:
		p.lim = limitsFrom(m.cfg, p.log)
		p.drain()
		close(m.done)
	case sweepMsg:
		p.drain()
		if m.fn != nil {
			m.fn()
		}
		close(m.done)
	case shutdownMsg:
		p.onShutdown()
	case estimateDone:
		p.onEstimated(m)
	case loadDone:
		p.onLoaded(m)
	case closeDone:
		p.onClosed(m)
	default:
		panic(fmt.Sprintf("pool: unknown message %T", m))
	}
}

func (p *Pool) onAcquire(m acquireMsg) {
	if p.shutting {
		m.w.answer(nil, fmt.Errorf("acquire %s: %w", m.id, ErrClosed))
		return
	}
	e := p.models[m.id]
	if e == nil {
		e = p.newEntry(m.id)
	}
	if n := len(e.waits.acquire); n >= p.lim.maxQueue {
		m.w.answer(nil, fmt.Errorf("acquire %s: %w (%d waiting)", m.id, ErrQueueFull, n))
		return
	}
	if p.lim.queueTimeout > 0 {
		m.w.deadline = p.now().Add(p.lim.queueTimeout)
	}
	e.waits.acquire = append(e.waits.acquire, m.w)
}

func (p *Pool) onLoad(m loadMsg) {
	if p.shutting {
		m.w.answer(nil, fmt.Errorf("load %s: %w", m.id, ErrClosed))
		return
	}
	e := p.models[m.id]
	if e == nil {
		e = p.newEntry(m.id)
	}
	if m.opts.Pin {
		e.pinned = true
	}
	if m.opts.TTL != nil {
		ttl := *m.opts.TTL
		e.ttl, e.reqTTL = &ttl, nil
	}
	if e.state == StateReady {
		e.lastUsed = p.now()
		m.w.answer(nil, nil)
		return
	}
	e.waits.load = append(e.waits.load, m.w)
}

func (p *Pool) onUnload(m unloadMsg) {
	e := p.models[m.id]
	if e == nil {
		if i := slices.IndexFunc(p.closing, func(c *entry) bool { return c.id == m.id }); i >= 0 {
			c := p.closing[i]
			c.waits.unload = append(c.waits.unload, m.w)
			return
		}
		m.w.answer(nil, fmt.Errorf("unload %s: %w", m.id, ErrNotLoaded))
		return
	}
	if !e.idle() && !m.wait {
		m.w.answer(nil, fmt.Errorf("unload %s: %w (%s, %d in flight, %d queued)",
			m.id, ErrBusy, e.state, e.inFlight, len(e.waits.acquire)))
		return
	}
	// drain unloads it as soon as it is idle, which may be now.
	e.waits.unload = append(e.waits.unload, m.w)
}

func (p *Pool) onCancel(w *waiter) {
	for _, e := range p.models {
		if remove(&e.waits.acquire, w) || remove(&e.waits.load, w) || remove(&e.waits.unload, w) || remove(&e.waits.grow, w) {
			return
		}
	}
	for _, e := range p.closing {
		if remove(&e.waits.unload, w) {
			return
		}
	}
}

func (p *Pool) onRelease(l *Lease, at time.Time) {
	e := l.e
	e.inFlight--
	// Another lease may have been granted (stamping lastUsed) after this
	// Release was called but before the loop got here: keep the later time.
	if at.After(e.lastUsed) {
		e.lastUsed = at
	}
	e.reqTTL = l.ttl
}

func (p *Pool) onPin(id string, pinned bool) error {
	e := p.models[id]
	if e == nil {
		return fmt.Errorf("pin %s: %w", id, ErrNotLoaded)
	}
	e.pinned = pinned
	return nil
}

// onShutdown fails everyone waiting for a lease or a load. Unloading then
// happens in drain as models become idle; loads in progress see their
// context cancelled.
func (p *Pool) onShutdown() {
	if p.shutting {
		return
	}
	p.shutting = true
	p.cancel()
	p.log.Info("pool: shutting down", "models", len(p.models))
	for _, e := range p.models {
		e.failRequests(fmt.Errorf("%s: %w", e.id, ErrClosed))
	}
	for _, e := range p.pending {
		p.forget(e)
	}
	p.pending = nil
}

// newEntry starts the estimate of a model nobody has asked for yet.
func (p *Pool) newEntry(id string) *entry {
	e := &entry{id: id, state: StatePending}
	p.models[id] = e
	p.workers++
	go func() {
		n, err := p.loader.Estimate(p.ctx, id)
		p.inbox <- estimateDone{e: e, bytes: n, err: err}
	}()
	return e
}

func (p *Pool) onEstimated(m estimateDone) {
	p.workers--
	e := m.e
	switch {
	case p.shutting || !e.hasWaiters():
		p.forget(e)
	case m.err != nil:
		p.fail(e, m.err)
	case m.bytes < 0:
		p.fail(e, fmt.Errorf("estimate %s: negative size %d", e.id, m.bytes))
	default:
		// A model that turned out larger than its estimate last time is
		// planned at its measured size, so it is not loaded again and again
		// only to be evicted for being over the budget.
		e.estimate, e.estimated = max(m.bytes, p.measured[e.id]), true
		e.roomBy = p.now().Add(p.lim.roomWait)
		p.pending = append(p.pending, e)
	}
}

// startLoad commits a placement: the victims start closing and the load waits
// for every close in progress, so the memory is free before it is needed again.
func (p *Pool) startLoad(e *entry, evict []eviction) {
	for _, v := range evict {
		p.evict(p.models[v.id], v.reason)
	}
	after := make([]chan struct{}, 0, len(p.closing))
	for _, c := range p.closing {
		after = append(after, c.closed)
	}
	e.state = StateLoading
	p.publish(Event{Kind: KindLoading, Model: e.id, Bytes: e.estimate})
	p.log.Info("pool: loading", "model", e.id, "bytes", e.estimate)
	p.workers++
	id := e.id
	go func() {
		for _, c := range after {
			<-c
		}
		start := time.Now()
		res, err := p.loader.Load(p.ctx, id)
		p.inbox <- loadDone{e: e, res: res, err: err, dur: time.Since(start)}
	}()
}

func (p *Pool) onLoaded(m loadDone) {
	p.workers--
	e := m.e
	if m.err == nil && m.res == nil {
		m.err = fmt.Errorf("load %s: the loader returned no model", e.id)
	}
	if m.err != nil {
		p.fail(e, m.err)
		return
	}
	now := p.now()
	e.res, e.state = m.res, StateReady
	e.resident = m.res.ResidentBytes()
	p.measured[e.id] = e.resident
	e.loadedAt, e.lastUsed = now, now
	for _, w := range e.waits.load {
		w.answer(nil, nil)
	}
	e.waits.load = nil
	p.publish(Event{Kind: KindReady, Model: e.id, Bytes: e.resident, Duration: m.dur})
	p.log.Info("pool: ready", "model", e.id, "bytes", e.resident, "estimate", e.estimate, "dur", m.dur)
}

// evict announces that the pool chose to unload e, then unloads it.
func (p *Pool) evict(e *entry, reason string) {
	p.publish(Event{Kind: KindEvicted, Model: e.id, Reason: reason, Bytes: e.charge()})
	p.unload(e, reason)
}

// unload moves an idle ready entry to closing and closes it in the
// background. The pool keeps no reference to the resource afterwards.
func (p *Pool) unload(e *entry, reason string) {
	delete(p.models, e.id)
	res := e.res
	e.res, e.state, e.closed = nil, StateUnloading, make(chan struct{})
	p.closing = append(p.closing, e)
	p.publish(Event{Kind: KindUnloading, Model: e.id, Reason: reason, Bytes: e.charge()})
	p.workers++
	go func() {
		err := res.Close()
		res = nil
		// Return the freed heap to the OS now rather than at the next GC cycle,
		// so the memory shows as free to the user and to the next load.
		debug.FreeOSMemory()
		p.inbox <- closeDone{e: e, reason: reason, err: err}
	}()
}

func (p *Pool) onClosed(m closeDone) {
	p.workers--
	e := m.e
	p.closing = slices.DeleteFunc(p.closing, func(c *entry) bool { return c == e })
	close(e.closed)
	var err error
	ev := Event{Kind: KindUnloaded, Model: e.id, Reason: m.reason, Bytes: e.charge()}
	if m.err != nil {
		err = fmt.Errorf("unload %s: %w", e.id, m.err)
		ev.Err = err.Error()
		p.log.Error("pool: unload failed", "model", e.id, "err", m.err)
		if p.shutting {
			p.closeErrs = append(p.closeErrs, err)
		}
	} else {
		p.log.Info("pool: unloaded", "model", e.id, "reason", m.reason, "bytes", e.charge())
	}
	// Subscribers hear of it before Unload returns, so a caller that then
	// reads the events finds the unload there.
	p.publish(ev)
	for _, w := range e.waits.unload {
		w.answer(nil, err)
	}
	e.waits.unload = nil
}

// fail drops an entry whose estimate or load failed, telling its waiters and
// subscribers why. The next request for the model starts afresh.
func (p *Pool) fail(e *entry, err error) {
	p.publish(Event{Kind: KindError, Model: e.id, Err: err.Error(), Bytes: e.estimate})
	p.log.Warn("pool: load failed", "model", e.id, "err", err)
	e.failRequests(err)
	p.forget(e)
}

// forget drops an entry that never loaded; Unload callers waiting on it are
// satisfied, since the model is not loaded.
func (p *Pool) forget(e *entry) {
	if p.models[e.id] == e {
		delete(p.models, e.id)
	}
	p.pending = slices.DeleteFunc(p.pending, func(c *entry) bool { return c == e })
	for _, w := range e.waits.unload {
		w.answer(nil, nil)
	}
	e.waits.unload = nil
}

func (p *Pool) publish(ev Event) {
	ev.Time = p.now()
	p.events.publish(ev)
}
