package pool

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// drain applies the rules after every message and timer tick. The order
// matters: queued requests get their turn before an idle model can expire,
// so a TTL of 0 never unloads a model that someone is waiting for.
func (p *Pool) drain() {
	now := p.now()
	p.expireWaiters(now)
	p.place(now, p.placeGrowth(now))
	for _, e := range p.sorted() {
		p.grant(e, now)
	}
	p.unloadIdle(now)
	p.enforceLimits()
}

// sorted is the entries in id order, so that decisions and events do not
// depend on map iteration.
func (p *Pool) sorted() []*entry {
	out := make([]*entry, 0, len(p.models))
	for _, e := range p.models {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	return out
}

// expireWaiters fails the requests that waited longer than QueueTimeout.
func (p *Pool) expireWaiters(now time.Time) {
	for _, e := range p.models {
		e.waits.acquire = slices.DeleteFunc(e.waits.acquire, func(w *waiter) bool {
			if w.deadline.IsZero() || now.Before(w.deadline) {
				return false
			}
			w.answer(nil, fmt.Errorf("acquire %s: %w after %s (%s, %d in flight)",
				e.id, ErrQueueTimeout, p.lim.queueTimeout, e.state, e.inFlight))
			return true
		})
	}
}

// place decides for the estimated models waiting for room, first come first
// served: while the first one waits for busy models, later ones wait too
// (they could otherwise take the room it is waiting for), but they still
// learn at once when they can never fit, and still time out.
// Grow calls still waiting (growing) block them all the same way.
func (p *Pool) place(now time.Time, growing bool) {
	blocked := growing
	for _, e := range slices.Clone(p.pending) {
		if !e.hasWaiters() {
			p.forget(e)
			continue
		}
		v, evict := decide(p.lim, e.estimate, p.slots(), p.freeing())
		switch {
		case v == tooLarge:
			p.fail(e, fmt.Errorf("load %s: %w: it needs %s, the budget is %s",
				e.id, ErrTooLarge, formatBytes(e.estimate), formatBytes(p.lim.budget)))
		case v == fits && !blocked:
			p.pending = slices.DeleteFunc(p.pending, func(c *entry) bool { return c == e })
			p.startLoad(e, evict)
		case !now.Before(e.roomBy):
			p.fail(e, p.noRoom(e, p.lim.roomWait))
		case p.onlyPinsBlock(e):
			// No request ending can make room: say so now, not after RoomWait.
			p.fail(e, p.noRoom(e, 0))
		default:
			blocked = true
		}
	}
}

// onlyPinsBlock reports whether e could not fit even once every model that
// is not pinned went idle and was evicted: only an unpin can make room.
func (p *Pool) onlyPinsBlock(e *entry) bool {
	var s []slot
	for _, o := range p.models {
		if o.state == StateLoading || o.state == StateReady {
			s = append(s, slot{id: o.id, charge: o.charge(), lastUsed: o.lastUsed, idle: !o.pinned})
		}
	}
	_, ok := fit(p.lim, e.estimate, 1, s, 0)
	return !ok
}

// noRoom explains which models hold the memory a load waited for (waited 0:
// did not wait, because only pinned models hold it).
func (p *Pool) noRoom(e *entry, waited time.Duration) error {
	var holders []string
	for _, o := range p.sorted() {
		switch {
		case o.state == StateLoading:
			holders = append(holders, o.id+" (loading)")
		case o.state == StateReady && o.pinned:
			holders = append(holders, o.id+" (pinned)")
		case o.state == StateReady && !o.idle():
			holders = append(holders, fmt.Sprintf("%s (%d in flight)", o.id, o.inFlight))
		}
	}
	used, loaded := p.freeing(), 0
	for _, s := range p.slots() {
		used += s.charge
		loaded++
	}
	var limits []string
	if p.lim.budget > 0 {
		limits = append(limits, fmt.Sprintf("it needs %s, %s of %s in use",
			formatBytes(e.estimate), formatBytes(used), formatBytes(p.lim.budget)))
	}
	if p.lim.maxModels > 0 {
		limits = append(limits, fmt.Sprintf("%d of %d models loaded", loaded, p.lim.maxModels))
	}
	held := "models still unloading"
	if len(holders) > 0 {
		held = strings.Join(holders, ", ")
	}
	if waited == 0 {
		return fmt.Errorf("load %s: %w: %s; held by %s: unpin one to make room", e.id, ErrNoRoom,
			strings.Join(limits, ", "), held)
	}
	return fmt.Errorf("load %s: %w after %s: %s; held by %s", e.id, ErrNoRoom, waited,
		strings.Join(limits, ", "), held)
}

// grant hands out leases to queued requests while the model has free slots.
func (p *Pool) grant(e *entry, now time.Time) {
	for e.state == StateReady && e.inFlight < p.lim.maxParallel && len(e.waits.acquire) > 0 {
		w := e.waits.acquire[0]
		e.waits.acquire = slices.Delete(e.waits.acquire, 0, 1)
		e.inFlight++
		e.lastUsed = now
		w.answer(&Lease{p: p, e: e, res: e.res, ttl: w.ttl}, nil)
	}
}

// unloadIdle unloads idle models that are due to go: all of them at
// shutdown, those an Unload waits for, and those whose TTL has run out.
func (p *Pool) unloadIdle(now time.Time) {
	for _, e := range p.sorted() {
		if !e.idle() {
			continue
		}
		switch exp := e.expires(p.lim.ttl); {
		case p.shutting:
			p.unload(e, ReasonShutdown)
		case len(e.waits.unload) > 0:
			p.unload(e, ReasonUnload)
		case !exp.IsZero() && !now.Before(exp):
			p.evict(e, ReasonIdle)
		}
	}
}

// enforceLimits evicts idle models while the pool is over its limits, which
// happens after SetConfig lowers them or when a model turns out larger than
// its estimate. Models already closing are left out: they are on their way.
func (p *Pool) enforceLimits() {
	evict, _ := fit(p.lim, 0, 0, p.slots(), 0)
	for _, v := range evict {
		p.evict(p.models[v.id], v.reason)
	}
}

// slots describes the loading and ready models to the scheduler.
func (p *Pool) slots() []slot {
	var out []slot
	for _, e := range p.models {
		if e.state != StateLoading && e.state != StateReady {
			continue
		}
		out = append(out, slot{id: e.id, charge: e.charge(), lastUsed: e.lastUsed, idle: e.idle() && !e.pinned})
	}
	return out
}

// freeing is the memory of the models whose Close is still running.
func (p *Pool) freeing() int64 {
	var n int64
	for _, e := range p.closing {
		n += e.charge()
	}
	return n
}

// nextWake is how long until the next deadline: a queue timeout, the end of
// a wait for room, or an idle model's expiry.
func (p *Pool) nextWake() (time.Duration, bool) {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, e := range p.models {
		earliest(e.expires(p.lim.ttl))
		if e.estimated && e.state == StatePending {
			earliest(e.roomBy)
		}
		for _, w := range e.waits.acquire {
			earliest(w.deadline)
		}
		for _, w := range e.waits.grow {
			earliest(w.deadline)
		}
	}
	if next.IsZero() {
		return 0, false
	}
	// drain clears every deadline that has passed; the floor only guards
	// against a clock that goes backwards spinning the loop.
	return max(next.Sub(p.now()), time.Millisecond), true
}

func (p *Pool) status() []ModelStatus {
	out := make([]ModelStatus, 0, len(p.models)+len(p.closing))
	for _, e := range p.models {
		out = append(out, e.status(p.lim.ttl))
	}
	for _, e := range p.closing {
		out = append(out, e.status(p.lim.ttl))
	}
	slices.SortFunc(out, func(a, b ModelStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (p *Pool) memory() MemoryStatus {
	m := MemoryStatus{BudgetBytes: max(p.lim.budget, 0), MaxModels: max(p.lim.maxModels, 0), TotalRAMBytes: p.lim.totalRAM}
	m.UsedBytes = p.freeing()
	for _, s := range p.slots() {
		m.UsedBytes += s.charge
		m.Models++
	}
	for _, e := range p.models {
		if e.state == StateReady {
			m.ResidentBytes += e.resident
		}
	}
	if m.BudgetBytes > 0 {
		m.AvailableBytes = max(m.BudgetBytes-m.UsedBytes, 0)
	}
	return m
}

// formatBytes writes a size for error messages: "1.5 GiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
