package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all" // register every architecture
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// Options configure an Engine.
type Options struct {
	ModelsDir string    // Hugging Face cache root
	NewRunner NewRunner // the executor
	Pool      pool.Config
	Sched     SchedConfig // slots, prefill chunk and prefix cache of each loaded model
	Logger    *slog.Logger
	// Folders lets a model be named by a folder path as well as by a repo id of
	// the models dir: the CLI's run, tokenize and bench take folders. A server
	// leaves it off, so that no request can name an arbitrary folder.
	Folders bool
	// Downloads, when set, is the download manager of the same models dir:
	// DeleteModel stops a model's download through it before removing the files.
	Downloads *hub.Manager
	// Hub, when set, is the Hugging Face client behind Search, HubConfig and the
	// offline and token settings.
	Hub *hub.Client
	// OpenHub, when set, makes New build the Hub client and the download
	// manager itself (instead of Hub and Downloads), and Close stop them: the
	// daemon's way, which keeps engine/hub out of app.
	OpenHub *HubOptions
	// LocalModels are the model folders registered under "local/<name>" names
	// (the daemon's stored registry); AddLocalModel registers more.
	LocalModels []LocalFolder
}

// Engine is the facade over the model library, the pool and generation.
type Engine struct {
	log       *slog.Logger
	cache     hub.Cache
	newRunner NewRunner
	pool      *pool.Pool
	last      lastRequests
	live      liveModels
	// applying serialises the appliers of pool and scheduler settings, so two
	// changes at once reach the pool and the models in the order they were made.
	applying  sync.Mutex
	schedBase SchedConfig    // Options.Sched
	schedCfg  SchedConfig    // guarded by live.mu; schedBase with SetParallel's value
	modelPar  map[string]int // guarded by live.mu; SetModelParallel's slots by model id
	poolCfg   pool.Config    // guarded by live.mu; the last config given, before withSlots
	folders   bool           // model ids may be folder paths (Options.Folders)
	downloads *hub.Manager   // nil: no downloads to stop
	hub       *hub.Client    // nil: no Hub search
	deleting  deletions
	ownsHub   bool // New built downloads (Options.OpenHub): Close stops them
	local     localFolders
	known     knownDirs // the models requests found whole (knowndirs.go)

	events        bus
	relayDone     chan struct{} // closed when relay has ended
	stopDownloads func()        // ends relay's download signals; nil without a manager
}

// New starts an engine. Close stops it.
func New(opts Options) (*Engine, error) {
	if opts.ModelsDir == "" {
		return nil, errors.New("engine: models dir is required")
	}
	if opts.NewRunner == nil {
		return nil, errors.New("engine: an executor is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	local, err := localDirs(opts.LocalModels)
	if err != nil {
		return nil, err
	}
	if opts.OpenHub != nil {
		if opts.Hub, opts.Downloads, err = openHub(opts); err != nil {
			return nil, err
		}
	}
	e := &Engine{ownsHub: opts.OpenHub != nil, local: localFolders{dirs: local}, log: opts.Logger, cache: hub.Cache{Root: opts.ModelsDir}, newRunner: opts.NewRunner, downloads: opts.Downloads, hub: opts.Hub, folders: opts.Folders,
		schedBase: opts.Sched, schedCfg: opts.Sched, poolCfg: opts.Pool}
	if opts.Pool.Logger == nil {
		opts.Pool.Logger = opts.Logger
	}
	e.pool = pool.New(withSlots(opts.Pool, opts.Sched), loader{e})
	e.startRelay(opts.Downloads)
	return e, nil
}

// Close stops the downloads of a manager New built (Options.OpenHub), unloads
// every model and ends the event stream.
func (e *Engine) Close() error {
	var err error
	if e.ownsHub {
		// Downloads stop first (they stay journaled): nothing should write
		// into the models dir while models unload.
		if derr := e.downloads.Close(); derr != nil {
			err = fmt.Errorf("stop downloads: %w", derr)
		}
	}
	err = errors.Join(err, e.pool.Close())
	if e.stopDownloads != nil {
		e.stopDownloads()
	}
	<-e.relayDone
	return err
}

// Cache is the models dir.
func (e *Engine) Cache() hub.Cache { return e.cache }

// loader is what the pool calls to size and load a model.
type loader struct{ e *Engine }

func (l loader) Estimate(ctx context.Context, id string) (int64, error) {
	dir, err := l.e.resolveDir(id)
	if err != nil {
		return 0, err
	}
	if err := l.e.deleting.refuse(id); err != nil {
		return 0, err
	}
	if err := checkDir(id, dir); err != nil {
		return 0, err
	}
	return estimateBytes(dir, -1)
}

func (l loader) Load(ctx context.Context, id string) (pool.Resource, error) {
	dir, err := l.e.resolveDir(id)
	if err != nil {
		return nil, err
	}
	if err := l.e.deleting.refuse(id); err != nil {
		return nil, err
	}
	if err := checkDir(id, dir); err != nil {
		return nil, err
	}
	start := time.Now()
	ld, err := openLoaded(ctx, id, dir, l.e.newRunner, l.e.schedConfigFor(id))
	if err != nil {
		return nil, err
	}
	ld.chargeKV(l.e.pool)
	l.e.live.add(ld)
	ld.onClose = func() { l.e.live.remove(ld) }
	l.e.log.Info("model loaded", "model", id, "backend", ld.runner.Backend(), "bytes", ld.ResidentBytes(), "dur", time.Since(start))
	return ld, nil
}

// Models lists every model in the models dir and every registered local
// folder, marking the loaded ones.
func (e *Engine) Models(ctx context.Context) ([]ModelInfo, error) {
	folders := e.local.list()
	registered := make(map[string]string, len(folders))
	for _, f := range folders {
		registered[f.Name] = f.Path
	}
	list, err := localModels(ctx, e.cache, registered)
	if err != nil {
		return nil, err
	}
	for _, f := range folders {
		list = append(list, describeLocal(f))
	}
	loaded := map[string]bool{}
	for _, s := range e.pool.Status() {
		loaded[s.ID] = s.State == pool.StateReady
	}
	for i := range list {
		list[i].Loaded = loaded[list[i].ID]
	}
	return list, nil
}

// Model describes one model: a repo id in the models dir or a folder.
func (e *Engine) Model(ctx context.Context, id string) (ModelInfo, error) {
	dir, err := e.resolveDir(id)
	if err != nil {
		return ModelInfo{}, err
	}
	var info ModelInfo
	if _, ok := e.local.get(id); ok {
		info = describeLocal(LocalFolder{Name: id, Path: dir})
	} else {
		info = describe(id, dir)
		if m, err := e.cache.Model(id); err == nil {
			info.SizeBytes, info.Modified = m.Size, m.ModTime
		}
	}
	for _, s := range e.pool.Status() {
		if s.ID == id {
			info.Loaded = s.State == pool.StateReady
		}
	}
	return info, nil
}

// acquire leases a loaded model, loading it when needed.
func (e *Engine) acquire(ctx context.Context, id string, keepAlive *time.Duration) (*pool.Lease, *loaded, error) {
	if id == "" {
		return nil, nil, &InvalidError{Param: "model", Err: errors.New("is required")}
	}
	if err := e.checkModel(id); err != nil {
		return nil, nil, err
	}
	lease, err := e.pool.Acquire(ctx, id, pool.AcquireOptions{TTL: keepAlive})
	if err != nil {
		return nil, nil, err // the pool names the model
	}
	return lease, lease.Resource().(*loaded), nil
}

// Chat runs a chat completion, calling emit with each streamed piece (emit may be
// nil). An error from emit (a client that went away) stops generation at once.
// When generation fails after it started, the partial Result (the tokens counted so
// far) comes back with the error.
func (e *Engine) Chat(ctx context.Context, req ChatRequest, emit func(Delta) error) (*Result, error) {
	start := time.Now()
	lease, l, err := e.acquire(ctx, req.Model, req.Options.KeepAlive)
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	if err := l.requireChat(); err != nil {
		return nil, err
	}
	j, err := l.chatPrompt(&req)
	if err != nil {
		return nil, err
	}
	j.start = start
	res, err := l.run(ctx, j, emit)
	if res != nil {
		res.Overflow = j.overflow
		if l.tmpl.Fallback() {
			res.Warning = WarnNoChatTemplate
		}
	}
	return e.finish(res, err)
}

// finish records a finished generation's figures.
func (e *Engine) finish(res *Result, err error) (*Result, error) {
	if err == nil {
		e.last.record(res)
	}
	return res, err
}

// Complete continues a raw prompt (no chat template), like OpenAI's legacy completions.
func (e *Engine) Complete(ctx context.Context, req CompletionRequest, emit func(Delta) error) (*Result, error) {
	start := time.Now()
	lease, l, err := e.acquire(ctx, req.Model, req.Options.KeepAlive)
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	if err := l.requireChat(); err != nil {
		return nil, err
	}
	j := &job{prompt: l.tok.Encode(req.Prompt, true), opts: req.Options, start: start}
	return e.finish(l.run(ctx, j, emit))
}
