package pool

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Resource is a loaded model. Close must release all of its memory (unmap the
// weights, free the executor's buffers); the pool calls it exactly once, when
// no lease holds the resource.
type Resource interface {
	Close() error
	ResidentBytes() int64
}

// Loader makes Resources. The pool calls it from its own goroutines, several
// at once for different models, never twice at once for the same model.
// Errors are returned to callers unchanged, so they should name the model.
type Loader interface {
	// Estimate is the memory a load will take: weights, KV cache for the
	// model's context, and overhead. It is called before any eviction, so it
	// should read metadata only.
	Estimate(ctx context.Context, id string) (int64, error)
	// Load opens the model. ctx is cancelled when the pool shuts down.
	Load(ctx context.Context, id string) (Resource, error)
}

// AcquireOptions tune one request.
type AcquireOptions struct {
	// TTL is how long the model stays loaded once this request is released
	// and nothing else uses it (Ollama's keep_alive). nil: the model's TTL;
	// 0: unload at once; negative: forever. The last request released decides.
	TTL *time.Duration
}

// LoadOptions tune an explicit load.
type LoadOptions struct {
	Pin bool           // never evict it (an explicit Unload still unloads it)
	TTL *time.Duration // the model's idle TTL from now on; nil: unchanged
}

// UnloadOptions tune an explicit unload.
type UnloadOptions struct {
	// Wait for requests in flight and queued to finish instead of failing with
	// ErrBusy. New requests keep being served meanwhile; ctx bounds the wait.
	Wait bool
}

// Pool keeps models loaded within a memory budget. All of its methods are
// safe for concurrent use. The state machine lives in one goroutine (run);
// methods send it a message and wait for the answer.
type Pool struct {
	loader Loader
	now    func() time.Time
	log    *slog.Logger
	inbox  chan any      // messages to the run loop
	done   chan struct{} // closed when the run loop has ended
	ctx    context.Context
	cancel context.CancelFunc // cancels Estimate and Load calls at shutdown
	events hub

	// Owned by the run loop goroutine; see loop.go.
	lim       limits
	models    map[string]*entry // pending, loading and ready models by id
	measured  map[string]int64  // resident size of each model at its last load
	pending   []*entry          // estimated models waiting for room, first come first served
	closing   []*entry          // models whose Close is running
	workers   int               // estimate, load and close goroutines running
	shutting  bool
	closeErrs []error // from Close calls during shutdown; read after done
}

// New starts a pool that loads models with l.
func New(cfg Config, l Loader) *Pool {
	p := &Pool{
		loader: l, now: cfg.Now, log: cfg.Logger,
		inbox: make(chan any), done: make(chan struct{}),
		models: make(map[string]*entry), measured: make(map[string]int64),
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.lim = limitsFrom(cfg, p.log)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.run()
	return p
}

// Acquire returns a lease on model id, loading it first if needed and waiting
// for a turn behind earlier requests (FIFO, at most Config.MaxParallel leases
// at once). Callers must Release the lease. It fails with ErrQueueFull,
// ErrQueueTimeout, ErrTooLarge, ErrNoRoom, ErrClosed, a Loader error or ctx's
// error.
func (p *Pool) Acquire(ctx context.Context, id string, o AcquireOptions) (*Lease, error) {
	w := newWaiter()
	w.ttl = o.TTL
	if err := p.send(ctx, acquireMsg{id: id, w: w}); err != nil {
		return nil, err
	}
	return p.wait(ctx, w)
}

// Load loads model id if it is not loaded (joining a load in progress) and
// waits until it is ready; Pin and TTL apply at once. No lease is held after.
func (p *Pool) Load(ctx context.Context, id string, o LoadOptions) error {
	w := newWaiter()
	if err := p.send(ctx, loadMsg{id: id, opts: o, w: w}); err != nil {
		return err
	}
	_, err := p.wait(ctx, w)
	return err
}

// Unload unloads model id and waits until its memory is released. A running
// generation is never interrupted: with requests in flight or queued, or a
// load in progress, it fails with ErrBusy unless o.Wait. Unloading a pinned
// model is allowed. ErrNotLoaded when the pool does not hold id.
func (p *Pool) Unload(ctx context.Context, id string, o UnloadOptions) error {
	w := newWaiter()
	if err := p.send(ctx, unloadMsg{id: id, wait: o.Wait, w: w}); err != nil {
		return err
	}
	_, err := p.wait(ctx, w)
	return err
}

// Pin keeps model id loaded (or lets it go again): a pinned model is never
// evicted and never expires.
func (p *Pool) Pin(id string, pinned bool) error {
	reply := make(chan error, 1)
	if err := p.send(context.Background(), pinMsg{id: id, pinned: pinned, reply: reply}); err != nil {
		return err
	}
	return <-reply
}

// Status lists the models in the pool by id; nil once closed.
func (p *Pool) Status() []ModelStatus {
	reply := make(chan []ModelStatus, 1)
	if p.send(context.Background(), statusMsg{reply: reply}) != nil {
		return nil
	}
	return <-reply
}

// Memory reports the budget and what is charged against it.
func (p *Pool) Memory() MemoryStatus {
	reply := make(chan MemoryStatus, 1)
	if p.send(context.Background(), memoryMsg{reply: reply}) != nil {
		return MemoryStatus{}
	}
	return <-reply
}

// SetConfig applies new limits (budget, model count, TTL, queue) at once,
// evicting idle models if the pool is now over them. Now and Logger are kept
// from New.
func (p *Pool) SetConfig(cfg Config) {
	done := make(chan struct{})
	if p.send(context.Background(), configMsg{cfg: cfg, done: done}) == nil {
		<-done
	}
}

// Subscribe returns a channel of load and unload events and a function that
// ends the subscription. A subscriber that falls behind loses the oldest
// events, never blocking the pool. The channel is closed by cancel or when
// the pool has shut down.
func (p *Pool) Subscribe() (<-chan Event, func()) { return p.events.subscribe() }

// Close is Shutdown without a deadline.
func (p *Pool) Close() error { return p.Shutdown(context.Background()) }

// Shutdown stops the pool: waiting and new requests fail with ErrClosed,
// loads in progress are cancelled, and every model is unloaded once its
// leases are released (so drain the HTTP server first). It returns when all
// memory is released, or with ctx's error if leases are still held then; the
// pool then finishes unloading in the background as they are released.
func (p *Pool) Shutdown(ctx context.Context) error {
	select {
	case p.inbox <- shutdownMsg{}:
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p.done:
		return errors.Join(p.closeErrs...)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send hands m to the run loop.
func (p *Pool) send(ctx context.Context, m any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.inbox <- m:
		return nil
	case <-p.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits for w's answer. When ctx ends first, the loop withdraws w; a
// lease granted in the meantime is released rather than leaked.
func (p *Pool) wait(ctx context.Context, w *waiter) (*Lease, error) {
	select {
	case a := <-w.reply:
		return a.lease, a.err
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
		if a.lease != nil {
			a.lease.Release()
		}
	default:
	}
	return nil, ctx.Err()
}

// Lease is one request's hold on a loaded model: while any lease is held the
// model is never unloaded.
type Lease struct {
	p    *Pool
	e    *entry
	res  Resource
	ttl  *time.Duration
	once sync.Once
}

// ID is the model's id.
func (l *Lease) ID() string { return l.e.id }

// Resource is the loaded model; do not use it after Release.
func (l *Lease) Resource() Resource { return l.res }

// Release gives the model back; it is idempotent. It records the time of last
// use and, with a TTL of 0, unloads the model when nothing else uses it.
func (l *Lease) Release() {
	l.once.Do(func() {
		l.res = nil
		// The run loop outlives every lease (it ends only when none is held),
		// so this send always completes.
		l.p.inbox <- releaseMsg{l: l, at: l.p.now()}
	})
}
