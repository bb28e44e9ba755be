package engine

import (
	"context"

	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// The loaded-model pool's vocabulary, named by the engine: callers outside the
// engine write engine.ModelStatus and engine.Load, never engine/pool, so the
// pool can change behind the facade. They are aliases, not copies: the values
// are the pool's own, with no mapping to keep in step.
type (
	ModelStatus    = pool.ModelStatus   // one model in memory
	MemoryStatus   = pool.MemoryStatus  // the budget and what is charged against it
	ModelState     = pool.State         // pending, loading, ready, unloading
	ModelEvent     = pool.Event         // a model's lifecycle step
	ModelEventKind = pool.Kind          // loading, ready, error, evicted, unloading, unloaded
	PoolConfig     = pool.Config        // the pool's limits
	LoadOptions    = pool.LoadOptions   // an explicit load: pin, TTL
	UnloadOptions  = pool.UnloadOptions // an explicit unload: wait for leases
)

// Model states and lifecycle events.
const (
	StatePending   = pool.StatePending
	StateLoading   = pool.StateLoading
	StateReady     = pool.StateReady
	StateUnloading = pool.StateUnloading

	EventLoading   = pool.KindLoading
	EventReady     = pool.KindReady
	EventError     = pool.KindError
	EventEvicted   = pool.KindEvicted
	EventUnloading = pool.KindUnloading
	EventUnloaded  = pool.KindUnloaded

	// DefaultTTL is how long an idle model stays loaded when nothing said otherwise.
	DefaultTTL = pool.DefaultTTL
)

// Errors of explicit loads and unloads that callers branch on.
var (
	ErrBusy      = pool.ErrBusy      // the model serves requests
	ErrNotLoaded = pool.ErrNotLoaded // the model is not in memory
)

// TotalRAM is the machine's memory, which a budget in percent is taken of.
func TotalRAM() (int64, error) { return pool.TotalRAM() }

// Status lists the models in memory.
func (e *Engine) Status() []ModelStatus { return e.pool.Status() }

// Memory is the budget and what the loaded models take of it.
func (e *Engine) Memory() MemoryStatus { return e.pool.Memory() }

// Load loads a model ahead of requests (a no-op when it is loaded; o may pin it
// or set its TTL).
func (e *Engine) Load(ctx context.Context, id string, o LoadOptions) error {
	return e.pool.Load(ctx, id, o)
}

// Unload frees a model's memory: ErrBusy while it serves requests unless o.Wait,
// ErrNotLoaded when it is not in memory.
func (e *Engine) Unload(ctx context.Context, id string, o UnloadOptions) error {
	return e.pool.Unload(ctx, id, o)
}

// Pin keeps a loaded model in memory (pinned) or lets its TTL run again.
func (e *Engine) Pin(id string, pinned bool) error { return e.pool.Pin(id, pinned) }

// SetPoolConfig applies new pool limits live; models over the new budget are
// evicted.
func (e *Engine) SetPoolConfig(cfg PoolConfig) {
	e.applying.Lock()
	defer e.applying.Unlock()
	e.live.mu.Lock()
	e.poolCfg = cfg
	sc := e.widestSched()
	e.live.mu.Unlock()
	e.pool.SetConfig(withSlots(cfg, sc))
}

// Hold keeps a model in use as a request in flight does (loading it first),
// until release is called: it counts against the model's leases (not its
// scheduler slots), and unloads and deletes wait for it or are refused with ErrBusy.
func (e *Engine) Hold(ctx context.Context, id string) (release func(), err error) {
	lease, _, err := e.acquire(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	return lease.Release, nil
}
