package engine

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/engine/sched"
)

// SchedConfig sets how each loaded model serves concurrent requests.
type SchedConfig struct {
	// Parallel is how many requests a model decodes together (its slots),
	// shared between callers (see WithCaller); the rest wait, admitted in
	// turn by caller. 0: 4.
	Parallel int
	// Chunk is how many prompt tokens a step prefills beside the running
	// requests' decode tokens. 0: 128.
	Chunk  int
	Prefix PrefixConfig

	straggle time.Duration // tests: sched.Config.Straggle (-1: lockstep)
}

// withSlots is the pool config the engine runs with: unless the caller fixed
// MaxParallel, a model grants a lease to every request its scheduler may hold,
// running or waiting, so that waiting requests queue in the scheduler (by
// caller, in turn) rather than first come first served in the pool.
func withSlots(c pool.Config, s SchedConfig) pool.Config {
	if c.MaxParallel == 0 {
		slots, queue := s.Parallel, c.MaxQueue
		if slots <= 0 {
			slots = sched.DefaultSlots
		}
		if queue <= 0 {
			queue = pool.DefaultMaxQueue
		}
		c.MaxParallel = slots + queue
	}
	return c
}

// liveModels are the loaded models by id, for their serving figures.
type liveModels struct {
	mu sync.Mutex // guards m
	m  map[string]*loaded
}

func (lm *liveModels) add(l *loaded) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.m == nil {
		lm.m = map[string]*loaded{}
	}
	lm.m[l.id] = l
}

func (lm *liveModels) remove(l *loaded) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.m[l.id] == l {
		delete(lm.m, l.id)
	}
}

// ServingStats are a loaded model's concurrency figures, for /metrics and the
// servers page.
type ServingStats struct {
	Model     string
	Slots     int     // requests decoded together at most
	Running   int     // requests holding a slot
	Waiting   int     // requests waiting for one
	LastBatch int     // sequences in the last forward step
	MeanBatch float64 // sequences per step since the load
	Steps     uint64  // forward steps since the load
	Tokens    uint64  // tokens run (prompt and decode) since the load
	Prefix    PrefixStats

	// Suspended requests hold a slot's KV but wait while other users take
	// their share of the steps (see engine/sched); Suspensions counts the
	// times it happened since the load.
	Suspended   int
	Suspensions uint64
	// Callers is how many users have a request running or suspended;
	// WaitingCallers how many have one waiting for a slot.
	Callers, WaitingCallers int
}

// Serving reports every loaded model's figures, by model id.
func (e *Engine) Serving() []ServingStats {
	e.live.mu.Lock()
	ls := make([]*loaded, 0, len(e.live.m))
	for _, l := range e.live.m {
		ls = append(ls, l)
	}
	e.live.mu.Unlock()
	out := make([]ServingStats, 0, len(ls))
	for _, l := range ls {
		st := l.sched.Stats()
		s := ServingStats{Model: l.id, Slots: st.Slots, Running: st.Running, Waiting: st.Waiting,
			LastBatch: st.LastBatch, Steps: st.Steps, Tokens: st.Tokens, Prefix: l.prefix.stats(),
			Suspended: st.Suspended, Suspensions: st.Suspensions}
		for _, c := range st.Callers {
			if c.Running+c.Suspended > 0 {
				s.Callers++
			}
			if c.Waiting > 0 {
				s.WaitingCallers++
			}
		}
		if st.Steps > 0 {
			s.MeanBatch = float64(st.StepSeqs) / float64(st.Steps)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ServingStats) int { return strings.Compare(a.Model, b.Model) })
	return out
}

// SetParallel sets how many requests each model decodes together, at once
// for the loaded models; 0 restores the engine's own (Options.Sched.Parallel).
// Models given their own count by SetModelParallel keep it.
func (e *Engine) SetParallel(n int) {
	e.live.mu.Lock()
	e.schedCfg.Parallel = n
	if n == 0 {
		e.schedCfg.Parallel = e.schedBase.Parallel
	}
	e.live.mu.Unlock()
	e.applySched()
}

// SetModelParallel gives models their own number of requests decoded together
// (profiles' parallel, by model id), replacing the previous set, at once for the
// loaded ones; a model not in slots follows SetParallel.
func (e *Engine) SetModelParallel(slots map[string]int) {
	m := make(map[string]int, len(slots))
	for id, n := range slots {
		if n > 0 {
			m[id] = n
		}
	}
	e.live.mu.Lock()
	e.modelPar = m
	e.live.mu.Unlock()
	e.applySched()
}

// applySched hands the current scheduler settings to the pool and to every
// loaded model's scheduler.
func (e *Engine) applySched() {
	e.applying.Lock()
	defer e.applying.Unlock()
	e.live.mu.Lock()
	pc, wide := e.poolCfg, e.widestSched()
	ls := make([]*loaded, 0, len(e.live.m))
	for _, l := range e.live.m {
		ls = append(ls, l)
	}
	cfgs := make([]SchedConfig, len(ls))
	for i, l := range ls {
		cfgs[i] = e.schedConfigLocked(l.id)
	}
	e.live.mu.Unlock()
	e.pool.SetConfig(withSlots(pc, wide))
	for i, l := range ls {
		l.sched.SetConfig(cfgs[i].sched())
	}
}

// widestSched is the scheduler config with the most slots any model has: the
// pool grants each model that many leases (plus its queue), and each model's
// scheduler admits only its own slots. The caller holds live.mu.
func (e *Engine) widestSched() SchedConfig {
	c := e.schedCfg
	if c.Parallel <= 0 {
		c.Parallel = sched.DefaultSlots
	}
	for _, n := range e.modelPar {
		c.Parallel = max(c.Parallel, n)
	}
	return c
}

// Parallel is how many requests each model decodes together.
func (e *Engine) Parallel() int {
	n := e.schedConfig().Parallel
	if n <= 0 {
		n = sched.DefaultSlots
	}
	return n
}

func (e *Engine) schedConfig() SchedConfig {
	e.live.mu.Lock()
	defer e.live.mu.Unlock()
	return e.schedCfg
}

// schedConfigFor is the scheduler config a model loads with.
func (e *Engine) schedConfigFor(id string) SchedConfig {
	e.live.mu.Lock()
	defer e.live.mu.Unlock()
	return e.schedConfigLocked(id)
}

func (e *Engine) schedConfigLocked(id string) SchedConfig {
	c := e.schedCfg
	if n, ok := e.modelPar[id]; ok {
		c.Parallel = n
	}
	return c
}

func (c SchedConfig) sched() sched.Config {
	return sched.Config{Slots: c.Parallel, Chunk: c.Chunk, Straggle: c.straggle}
}
