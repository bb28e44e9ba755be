package graph

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	gg "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Options configures New.
type Options struct {
	// Backend picks the gomlx backend: "" (XLA when a PJRT plugin is installed,
	// pure Go otherwise), "go", "xla" or "xla:<plugin>".
	Backend string
	// Logger receives the backend choice and graph compilations; nil discards.
	Logger *slog.Logger
}

// maxSplit caps the row blocks of a matrix: each block also copies the
// layer's input, which grows with the chunk size.
const maxSplit = 8

// runner is a model.Runner. Sequences hold mu for reading while they run a
// graph, so Close (which takes it for writing) never frees tensors in use.
type runner struct {
	backend backends.Backend
	name    string
	spec    spec
	lay     *layout
	def     model.Definition
	buckets buckets
	log     *slog.Logger

	execs [2]*gg.Exec // indexed by outputKind

	mu      sync.RWMutex
	weights []*tensors.Tensor // guarded by mu (nil once closed)
	closed  bool              // guarded by mu

	compiledMu sync.Mutex
	compiled   map[graphKey]bool // guarded by compiledMu: shapes already built, for the compile log line
}

// graphKey names one compiled graph: gomlx compiles per input shape.
type graphKey struct {
	kind            outputKind
	chunk, cacheLen int
}

var _ model.Runner = (*runner)(nil)

func newRunner(ctx context.Context, s spec, def model.Definition, p model.Params, opts Options) (_ *runner, err error) {
	defer recoverTo(&err)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, name, err := selectBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	bk := s.tune(name)
	if err := s.validate(); err != nil {
		return nil, err
	}
	log.Info("gomlx executor backend", "backend", name, "description", b.Description(), "split", s.split)

	start := time.Now()
	ld := &loader{backend: b, spec: &s}
	lay, err := ld.load(ctx, def, p, numCallInputs+2*s.layers)
	if err != nil {
		ld.release()
		return nil, fmt.Errorf("load weights: %w", err)
	}
	log.Info("gomlx weights loaded", "bytes", ld.bytes, "tensors", len(ld.tensors), "dur", time.Since(start))

	r := &runner{
		backend: b, name: name, spec: s, lay: lay, def: def, log: log, buckets: bk,
		weights: ld.tensors, compiled: map[graphKey]bool{},
	}
	for _, kind := range []outputKind{outLogits, outHidden} {
		e, err := gg.NewExecAny(b, func(in []*gg.Node) []*gg.Node { return r.spec.forward(def, lay, kind, in) })
		if err != nil {
			r.finalize()
			return nil, fmt.Errorf("new exec: %w", err)
		}
		// Buckets already bound the number of shapes; the default limit of 32
		// would fail long sessions with many cache lengths.
		r.execs[kind] = e.SetMaxCache(-1).WithName(fmt.Sprintf("decoder-%d", kind))
	}
	return r, nil
}

// tune fits the runner to its backend: shape buckets by compile cost, and on
// the pure-Go backend one row block per core for large matrices (see
// linear.go) unless the caller fixed split.
func (s *spec) tune(backendName string) buckets {
	if backendName != simplegoName {
		if s.split == 0 {
			s.split = 1
		}
		return coarseBuckets
	}
	if s.split == 0 {
		s.split = min(runtime.NumCPU(), maxSplit)
	}
	return fineBuckets
}

func (s *spec) validate() error {
	switch {
	case s.layers <= 0 || s.hidden <= 0 || s.vocab <= 0:
		return fmt.Errorf("invalid sizes: layers %d hidden %d vocab %d", s.layers, s.hidden, s.vocab)
	case s.heads <= 0 || s.kvHeads <= 0 || s.heads%s.kvHeads != 0:
		return fmt.Errorf("invalid heads: %d query heads, %d kv heads", s.heads, s.kvHeads)
	case s.headDim <= 0 || s.headDim%2 != 0:
		return fmt.Errorf("invalid head dim %d", s.headDim)
	case s.split < 1:
		return fmt.Errorf("invalid split %d", s.split)
	}
	return nil
}

// Backend implements model.Runner.
func (r *runner) Backend() string { return r.name }

// NewSequence implements model.Runner. The cache is allocated lazily, in
// buckets, as the sequence grows.
func (r *runner) NewSequence(maxLen int) (model.Sequence, error) {
	if maxLen <= 0 {
		return nil, fmt.Errorf("new sequence: max length %d must be positive", maxLen)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, fmt.Errorf("new sequence: %w", ErrClosed)
	}
	return &sequence{r: r, maxLen: maxLen}, nil
}

// Close implements model.Runner. It waits for running steps to finish.
func (r *runner) Close() (err error) {
	defer recoverTo(&err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.finalize()
	return nil
}

func (r *runner) finalize() {
	for _, e := range r.execs {
		if e != nil {
			e.Finalize()
		}
	}
	for _, t := range r.weights {
		_ = t.FinalizeAll()
	}
	r.weights = nil
}

// run executes one chunk while holding the read lock. args are the call
// inputs and caches; weights are appended here.
func (r *runner) run(kind outputKind, key graphKey, args []any) (_ []*tensors.Tensor, err error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, ErrClosed
	}
	defer recoverTo(&err)
	for _, t := range r.weights {
		args = append(args, t)
	}
	r.compiledMu.Lock()
	first := !r.compiled[key]
	r.compiled[key] = true
	r.compiledMu.Unlock()
	start := time.Now()
	out, err := r.execs[kind].Exec(args...)
	if first {
		r.log.Debug("gomlx graph compiled and run", "kind", kind, "chunk", key.chunk, "cache", key.cacheLen,
			"dur", time.Since(start), "err", err)
	}
	return out, err
}
