// Package pool keeps loaded models in memory under a budget, so that users can
// name several models and never run out of memory, never lose a running
// generation to an unload, and never have the same model loaded twice.
//
// The pool is generic: a Loader estimates and loads a model by id into a
// Resource (Close, ResidentBytes); the engine facade injects one that opens
// weights, tokenizer and executor. Callers take a Lease for each request:
//
//	l, err := p.Acquire(ctx, id, pool.AcquireOptions{TTL: keepAlive})
//	if err != nil { ... }            // ErrQueueFull → 429, ErrNoRoom → 503, ...
//	defer l.Release()
//	m := l.Resource().(*loaded)      // use it until Release
//
// What the pool guarantees:
//
//   - Single flight: the first request for a model starts its load; later
//     ones, and explicit Loads, wait for that same load.
//   - Budget: before a load the pool asks the Loader's Estimate and evicts
//     idle models, least recently used first, until the model fits both the
//     memory budget and MaxModels. Models with leases held or requests queued,
//     models loading, and pinned models are never evicted. A model larger
//     than the whole budget fails at once with ErrTooLarge; one that only
//     lacks room held by busy or pinned models waits up to RoomWait, then
//     fails with ErrNoRoom (at once, naming them, when only pinned models
//     hold the room: no request ending can free it). The load starts only after the evicted models'
//     Close has returned, so memory is freed before it is needed again.
//   - KV cache counted as held: a loaded model's executor charges its KV
//     cache blocks with Grow before taking them and gives them back with
//     Shrink; a Grow evicts idle models for room, waits up to RoomWait for
//     busy ones, then fails with ErrNoRoom, so memory never runs out.
//   - Idle TTL: a model unused for its TTL (request > model > DefaultTTL;
//     0 unloads right after the request, negative keeps it forever) is
//     unloaded. Pinned models never expire.
//   - Fair queues: each model grants at most MaxParallel leases at once and
//     queues the rest first come first served, at most MaxQueue of them, each
//     for at most QueueTimeout. A caller whose context ends leaves the queue.
//   - Unload never interrupts: explicit Unload refuses a busy model with
//     ErrBusy, or with Wait waits until it is idle.
//   - Events: loading, ready, error, evicted, unloading and unloaded go to
//     every subscriber through a bounded buffer; a slow subscriber loses the
//     oldest events and never blocks the pool.
//
// One goroutine owns all state (see design.md): methods send it messages,
// estimates, loads and closes run in goroutines that report back to it, and
// the eviction choice is a pure function (decide) tested on its own.
//
// Who may import me: engine (the facade). I import only the standard library,
// x/sys and internal/meminfo, and know nothing of models, executors or HTTP.
package pool
