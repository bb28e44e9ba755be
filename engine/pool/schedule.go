package pool

import (
	"cmp"
	"slices"
	"time"
)

// The scheduling decision is a pure function of the limits and a snapshot of
// what is loaded, so it is tested on its own and called as often as the run
// loop likes: it changes nothing and logs nothing.

// slot is one loaded (or loading) model as the scheduler sees it.
type slot struct {
	id       string
	charge   int64     // bytes counted against the budget
	lastUsed time.Time // LRU order
	idle     bool      // evictable: ready, unpinned, nothing in flight or queued
}

// eviction is one model to unload and why.
type eviction struct {
	id     string
	reason string // ReasonMemory or ReasonMaxModels
}

// verdict says what to do with a model that wants to load.
type verdict int

const (
	fits     verdict = iota // load now, after the evictions
	mustWait                // busy or pinned models hold the room: wait, then ErrNoRoom
	tooLarge                // more than the whole budget: fail at once
)

// decide says whether a model needing need bytes can load next to loaded,
// while freeing bytes are still being unloaded, and which idle models to evict
// first, least recently used first.
func decide(lim limits, need int64, loaded []slot, freeing int64) (verdict, []eviction) {
	if lim.budget > 0 && need > lim.budget {
		return tooLarge, nil
	}
	evict, ok := fit(lim, need, 1, loaded, freeing)
	if !ok {
		return mustWait, nil
	}
	return fits, evict
}

// fit picks the idle models to evict, least recently used first, until adding
// need bytes and adding models fits both the budget and the model count. ok is
// false when evicting every idle model is still not enough; evict then lists
// them all (enforcing a lowered budget uses that).
func fit(lim limits, need int64, adding int, loaded []slot, freeing int64) (evict []eviction, ok bool) {
	used := freeing
	for _, s := range loaded {
		used += s.charge
	}
	count := len(loaded)
	overCount := func() bool { return lim.maxModels > 0 && count+adding > lim.maxModels }
	overMemory := func() bool { return lim.budget > 0 && used+need > lim.budget }
	if !overCount() && !overMemory() {
		return nil, true
	}
	for _, s := range lruIdle(loaded) {
		reason := ReasonMemory
		if overCount() {
			reason = ReasonMaxModels
		}
		evict = append(evict, eviction{id: s.id, reason: reason})
		used -= s.charge
		count--
		if !overCount() && !overMemory() {
			return evict, true
		}
	}
	return evict, false
}

// lruIdle is the evictable slots, least recently used first (ties by id, so
// the order never depends on map iteration).
func lruIdle(loaded []slot) []slot {
	var idle []slot
	for _, s := range loaded {
		if s.idle {
			idle = append(idle, s)
		}
	}
	slices.SortFunc(idle, func(a, b slot) int {
		if c := a.lastUsed.Compare(b.lastUsed); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return idle
}
