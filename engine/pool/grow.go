package pool

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// A loaded model's memory grows as it serves: its sequences' KV cache is
// taken a block at a time. Grow charges such memory to the model before it is
// taken and Shrink gives it back, so that the budget counts the weights plus
// the KV cache actually held, and a sequence that would take the pool over
// its budget makes room (evicting idle models), waits for it, or fails with
// ErrNoRoom (503) instead of running the machine out of memory.

// Grow charges bytes more to loaded model id, on top of its weights. Idle
// models are evicted, least recently used first, to make room; when busy or
// pinned models hold the room it waits up to Config.RoomWait (first come first
// served with other Grow calls, ahead of loads) and then fails with ErrNoRoom;
// when even the model alone would exceed the budget it fails at once with
// ErrNoRoom. On error nothing is charged.
func (p *Pool) Grow(ctx context.Context, id string, bytes int64) error {
	if bytes <= 0 {
		return nil
	}
	w := newWaiter()
	w.bytes = bytes
	if err := p.send(ctx, growMsg{id: id, w: w}); err != nil {
		return err
	}
	select {
	case a := <-w.reply:
		return a.err
	case <-ctx.Done():
	}
	done := make(chan struct{})
	select {
	case p.inbox <- cancelMsg{w: w, done: done}:
		<-done
	case <-p.done:
	}
	select {
	case a := <-w.reply:
		if a.err == nil { // granted while ctx ended: give it back
			p.Shrink(id, bytes)
		}
	default:
	}
	return ctx.Err()
}

// Shrink gives back bytes charged to model id by Grow. A model whose Close
// is running gets them first: only its executor can still give back.
func (p *Pool) Shrink(id string, bytes int64) {
	if bytes <= 0 {
		return
	}
	select {
	case p.inbox <- shrinkMsg{id: id, bytes: bytes}:
	case <-p.done:
	}
}

func (p *Pool) onGrow(m growMsg) {
	e := p.models[m.id]
	if e == nil || e.state != StateReady {
		m.w.answer(nil, fmt.Errorf("kv cache of %s: %w", m.id, ErrNotLoaded))
		return
	}
	if p.shutting {
		m.w.answer(nil, fmt.Errorf("kv cache of %s: %w", m.id, ErrClosed))
		return
	}
	m.w.deadline = p.now().Add(p.lim.roomWait)
	e.waits.grow = append(e.waits.grow, m.w)
}

func (p *Pool) onShrink(m shrinkMsg) {
	i := slices.IndexFunc(p.closing, func(c *entry) bool { return c.id == m.id && c.kv > 0 })
	e := p.models[m.id]
	if i >= 0 {
		e = p.closing[i]
	}
	if e != nil {
		e.kv = max(e.kv-m.bytes, 0)
	}
}

// placeGrowth grants the Grow calls that fit, oldest first, failing those
// that can never fit or waited too long. It reports whether any still waits:
// loads then wait too, so that they do not take the room a running request
// needs to go on.
func (p *Pool) placeGrowth(now time.Time) (waiting bool) {
	for _, e := range p.sorted() {
		for len(e.waits.grow) > 0 {
			w := e.waits.grow[0]
			var err error
			v, evict := p.decideGrowth(e, w.bytes)
			switch {
			case v == tooLarge:
				err = fmt.Errorf("kv cache of %s: %w: %s more would make it %s, over the whole budget of %s",
					e.id, ErrNoRoom, formatBytes(w.bytes), formatBytes(e.charge()+w.bytes), formatBytes(p.lim.budget))
			case v == fits && !waiting:
				for _, v := range evict {
					p.evict(p.models[v.id], v.reason)
				}
				e.kv += w.bytes
			case !now.Before(w.deadline):
				err = fmt.Errorf("kv cache of %s: %w after %s: it needs %s more, %s of %s in use",
					e.id, ErrNoRoom, p.lim.roomWait, formatBytes(w.bytes), formatBytes(p.used()), formatBytes(p.lim.budget))
			default:
				waiting = true
			}
			if v != tooLarge && waiting && now.Before(w.deadline) {
				break // this one and the rest of e's wait their turn
			}
			e.waits.grow = e.waits.grow[1:]
			w.answer(nil, err)
		}
	}
	return waiting
}

// decideGrowth is decide for bytes more of e, which is never its own victim.
func (p *Pool) decideGrowth(e *entry, bytes int64) (verdict, []eviction) {
	if p.lim.budget > 0 && e.charge()+bytes > p.lim.budget {
		return tooLarge, nil
	}
	loaded := p.slots()
	for i := range loaded {
		if loaded[i].id == e.id {
			loaded[i].idle = false
		}
	}
	evict, ok := fit(p.lim, bytes, 0, loaded, p.freeing())
	if !ok {
		return mustWait, nil
	}
	return fits, evict
}

// used is what the loaded, loading and closing models are charged.
func (p *Pool) used() int64 {
	n := p.freeing()
	for _, s := range p.slots() {
		n += s.charge
	}
	return n
}
