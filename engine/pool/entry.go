package pool

import (
	"slices"
	"time"
)

// State is where a model is in its life in the pool.
type State string

// States, in order. A model that failed to load or finished unloading is
// no longer in the pool.
const (
	StatePending   State = "pending"   // estimating its size, or waiting for room
	StateLoading   State = "loading"   // Loader.Load is running
	StateReady     State = "ready"     // serving leases
	StateUnloading State = "unloading" // Resource.Close is running
)

// entry is one model in the pool. The run loop owns it; load and close
// goroutines get what they need as arguments and report back by message.
type entry struct {
	id        string
	state     State
	estimated bool      // pending: the estimate is known, the entry waits for room
	roomBy    time.Time // pending and estimated: give up with ErrNoRoom after this
	res       Resource
	estimate  int64
	resident  int64
	loadedAt  time.Time
	lastUsed  time.Time
	inFlight  int
	kv        int64 // charged by Grow (the KV cache its sequences hold), not yet given back
	pinned    bool
	ttl       *time.Duration // set by Load; nil: the pool's default
	reqTTL    *time.Duration // set by the last request released; overrides ttl
	waits     waits
	closed    chan struct{} // closed when Close returns (unloading)
}

// waits are the callers blocked on an entry.
type waits struct {
	acquire []*waiter // FIFO of Acquire calls without a lease yet
	load    []*waiter // explicit Load calls waiting for ready
	unload  []*waiter // Unload calls waiting for idle, then for Close
	grow    []*waiter // Grow calls waiting for room, FIFO
}

// waiter is one blocked call. The loop answers through reply, which holds one
// answer so the loop never blocks on a caller that has gone.
type waiter struct {
	ttl      *time.Duration
	deadline time.Time // zero: no queue timeout; Grow: when to give up waiting for room
	bytes    int64     // Grow: how much more
	reply    chan answer
}

type answer struct {
	lease *Lease
	err   error
}

func newWaiter() *waiter { return &waiter{reply: make(chan answer, 1)} }

// answer replies once; a waiter is removed from every list before it is
// answered, so a second answer is a bug the buffer would hide.
func (w *waiter) answer(l *Lease, err error) { w.reply <- answer{lease: l, err: err} }

// remove deletes w from list, reporting whether it was there.
func remove(list *[]*waiter, w *waiter) bool {
	i := slices.Index(*list, w)
	if i < 0 {
		return false
	}
	*list = slices.Delete(*list, i, i+1)
	return true
}

// failRequests answers every Acquire and Load waiting on e with err.
func (e *entry) failRequests(err error) {
	for _, w := range e.waits.acquire {
		w.answer(nil, err)
	}
	for _, w := range e.waits.load {
		w.answer(nil, err)
	}
	for _, w := range e.waits.grow {
		w.answer(nil, err)
	}
	e.waits.acquire, e.waits.load, e.waits.grow = nil, nil, nil
}

// charge is what the entry counts against the budget: its estimate (weights
// and overhead) or its measured resident size when that is larger, plus the
// KV cache its sequences hold (Grow).
func (e *entry) charge() int64 { return max(e.estimate, e.resident) + e.kv }

// idle says the entry could be unloaded without harming anyone.
func (e *entry) idle() bool {
	return e.state == StateReady && e.inFlight == 0 && len(e.waits.acquire) == 0 && len(e.waits.grow) == 0
}

// hasWaiters says someone still wants this entry loaded.
func (e *entry) hasWaiters() bool { return len(e.waits.acquire)+len(e.waits.load) > 0 }

// effectiveTTL is how long the entry stays once idle; negative: forever.
func (e *entry) effectiveTTL(def time.Duration) time.Duration {
	switch {
	case e.reqTTL != nil:
		return *e.reqTTL
	case e.ttl != nil:
		return *e.ttl
	}
	return def
}

// expires is when an idle entry unloads; zero when it is busy, pinned or kept forever.
func (e *entry) expires(def time.Duration) time.Time {
	if !e.idle() || e.pinned {
		return time.Time{}
	}
	ttl := e.effectiveTTL(def)
	if ttl < 0 {
		return time.Time{}
	}
	return e.lastUsed.Add(ttl)
}

// ModelStatus is a snapshot of one model in the pool.
type ModelStatus struct {
	ID            string        `json:"id"`
	State         State         `json:"state"`
	ResidentBytes int64         `json:"resident_bytes"` // measured after load; 0 until ready
	EstimateBytes int64         `json:"estimate_bytes"` // planned size: the loader's estimate, or the size measured at the last load when larger; 0 until estimated
	LoadedAt      time.Time     `json:"loaded_at,omitzero"`
	LastUsed      time.Time     `json:"last_used,omitzero"`
	KVBytes       int64         `json:"kv_bytes"` // KV cache its sequences hold, charged on top of its size
	InFlight      int           `json:"in_flight"`
	Queued        int           `json:"queued"`
	Pinned        bool          `json:"pinned"`
	TTL           time.Duration `json:"ttl"`                 // effective; negative: forever
	ExpiresAt     time.Time     `json:"expires_at,omitzero"` // zero: busy, pinned or kept forever
}

func (e *entry) status(def time.Duration) ModelStatus {
	return ModelStatus{
		ID: e.id, State: e.state, ResidentBytes: e.resident, EstimateBytes: e.estimate,
		LoadedAt: e.loadedAt, LastUsed: e.lastUsed, KVBytes: e.kv, InFlight: e.inFlight,
		Queued: len(e.waits.acquire), Pinned: e.pinned,
		TTL: e.effectiveTTL(def), ExpiresAt: e.expires(def),
	}
}

// MemoryStatus is the pool's memory accounting.
type MemoryStatus struct {
	BudgetBytes    int64 `json:"budget_bytes"`    // 0: no cap
	UsedBytes      int64 `json:"used_bytes"`      // charged by loading, ready and unloading models
	AvailableBytes int64 `json:"available_bytes"` // budget minus used, never negative; 0 with no cap
	ResidentBytes  int64 `json:"resident_bytes"`  // measured size of the ready models
	TotalRAMBytes  int64 `json:"total_ram_bytes"` // physical memory; 0 if unknown
	Models         int   `json:"models"`          // loading or ready
	MaxModels      int   `json:"max_models"`      // 0: no cap
}
