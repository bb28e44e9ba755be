package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/sched"
)

// defaultConcurrentPrompt is the prompt of each concurrent request unless
// Options.PromptTokens says otherwise: a short chat turn, so that the figures
// are about decoding together rather than about prefill.
const defaultConcurrentPrompt = 32

// ConcurrencyResult is one model's figures with Concurrency requests at once,
// each a prompt then DecodeTokens greedy tokens, all through the engine's
// scheduler with as many slots as requests.
type ConcurrencyResult struct {
	Precision   string  `json:"precision"`
	Backend     string  `json:"backend"`
	Concurrency int     `json:"concurrency"`
	TokS        float64 `json:"tok_s"`   // all requests' decoded tokens per second of wall time, median run
	Speedup     float64 `json:"speedup"` // TokS over the lowest concurrency's
	TTFTMedMs   float64 `json:"ttft_median_ms"`
	TTFTP95Ms   float64 `json:"ttft_p95_ms"`
	MeanBatch   float64 `json:"mean_batch"` // sequences per forward step
	// CPUTokS is TokS per CPU second times Threads: the rate with a core per
	// thread, steadier than TokS on a machine shared with other work.
	CPUTokS float64 `json:"cpu_tok_s,omitempty"`
	Prompt  int     `json:"prompt_tokens"`
	Decode  int     `json:"decode_tokens"`
	Threads int     `json:"threads"`
	Runs    int     `json:"runs"`
}

// RunConcurrency measures, for each precision (or the model directory) and
// each level, levels[i] requests started together: aggregate decode speed
// and time to first token. It writes a table (or JSON) to w.
func RunConcurrency(ctx context.Context, opts Options, levels []int, w io.Writer) ([]ConcurrencyResult, error) {
	if len(levels) == 0 {
		return nil, fmt.Errorf("no concurrency levels")
	}
	for _, n := range levels {
		if n < 1 || n > 256 {
			return nil, fmt.Errorf("concurrency %d: want 1 to 256", n)
		}
	}
	if opts.PromptTokens <= 0 {
		opts.PromptTokens = defaultConcurrentPrompt
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	var results []ConcurrencyResult
	for _, label := range opts.labels() {
		dir, err := opts.modelDir(label)
		if err != nil {
			return results, err
		}
		rs, err := measureConcurrency(ctx, &opts, label, dir, levels)
		results = append(results, rs...)
		if err != nil {
			return results, fmt.Errorf("bench %s: %w", label, err)
		}
	}
	return results, reportConcurrency(w, results, opts.JSON)
}

// labels are what to measure: the model directory's name, or the precisions.
func (o *Options) labels() []string {
	if o.ModelDir != "" {
		return []string{filepath.Base(o.ModelDir)}
	}
	return o.Precisions
}

func (o *Options) modelDir(label string) (string, error) {
	if o.ModelDir != "" {
		return o.ModelDir, nil
	}
	dir, generated, err := ensureModel(o.CacheDir, label, o.Shape)
	if generated {
		o.Logger.Info("generated model", "precision", label, "dir", dir)
	}
	return dir, err
}

func measureConcurrency(ctx context.Context, o *Options, label, dir string, levels []int) ([]ConcurrencyResult, error) {
	m, err := model.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	r, err := o.NewRunner(m)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// One scheduler per level for all its runs, as the server keeps one per
	// loaded model: a new one per run would time its learning every run (it
	// tries a single forward against the batch now and then, more often while
	// it is new: 4 tries per 128-token run of 4 requests, each 29 ms over a
	// batched step, 3% of the run). A full-length run on each,
	// not counted, faults in the mapped weights, sizes the batch's buffers
	// and does that learning.
	scheds := make([]*sched.Scheduler, len(levels))
	for li, n := range levels {
		scheds[li] = sched.New(r, sched.Config{Slots: n})
		defer scheds[li].Close()
		o.Logger.Info("warm-up", "precision", label, "concurrency", n)
		if _, err := concurrentRun(ctx, scheds[li], r, m.Config.VocabSize, n, o.PromptTokens, o.DecodeTokens); err != nil {
			return nil, err
		}
	}
	// The levels take turns, run by run, rather than one level's runs after
	// the other's: single-stream decode is bandwidth-bound and moves with the
	// rest of the machine's memory traffic, so levels measured minutes apart
	// would compare two different machines and make the speedup a draw.
	type samples struct{ rates, cpuRates, ttfts, batches []float64 }
	got := make([]samples, len(levels))
	for i := 0; i < o.Runs; i++ {
		for li, n := range levels {
			o.Logger.Info("run", "precision", label, "concurrency", n, "run", i+1)
			c, err := concurrentRun(ctx, scheds[li], r, m.Config.VocabSize, n, o.PromptTokens, o.DecodeTokens)
			if err != nil {
				return nil, err
			}
			g := &got[li]
			g.rates = append(g.rates, float64(n*o.DecodeTokens)/c.wall.Seconds())
			if c.cpu > 0 {
				g.cpuRates = append(g.cpuRates, float64(n*o.DecodeTokens*runtime.GOMAXPROCS(0))/c.cpu.Seconds())
			}
			for _, t := range c.ttft {
				g.ttfts = append(g.ttfts, float64(t.Microseconds())/1e3)
			}
			g.batches = append(g.batches, c.meanBatch)
		}
	}
	out := make([]ConcurrencyResult, len(levels))
	for li, n := range levels {
		g, res := &got[li], &out[li]
		*res = ConcurrencyResult{Precision: label, Backend: r.Backend(), Concurrency: n, Prompt: o.PromptTokens,
			Decode: o.DecodeTokens, Threads: runtime.GOMAXPROCS(0), Runs: o.Runs}
		res.TokS, _, _ = spread(g.rates)
		res.TTFTMedMs, _, _ = spread(g.ttfts)
		res.TTFTP95Ms = percentile(g.ttfts, 0.95)
		res.MeanBatch, _, _ = spread(g.batches)
		res.CPUTokS, _, _ = spread(g.cpuRates)
		res.Speedup = 1
		if out[0].TokS > 0 {
			res.Speedup = res.TokS / out[0].TokS
		}
	}
	return out, nil
}

// concurrency is one run's figures.
type concurrency struct {
	wall      time.Duration   // start to the last request's last token
	cpu       time.Duration   // process CPU time over the same span
	ttft      []time.Duration // each request's start to its first token
	meanBatch float64
	busy      time.Duration // the scheduler's time in forward passes
}

// concurrentRun starts n requests at once through s (of n slots, idle): each
// prefills its own prompt, then decodes decode tokens greedily.
func concurrentRun(ctx context.Context, s *sched.Scheduler, r model.Runner, vocab, n, prompt, decode int) (concurrency, error) {
	st0 := s.Stats()
	base := promptTokens(prompt+n, vocab)
	c := concurrency{ttft: make([]time.Duration, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start, cpu := time.Now(), cpuTime()
	for i := range n {
		wg.Go(func() {
			errs[i] = request(ctx, s, r, base[i:i+prompt], decode, func() { c.ttft[i] = time.Since(start) })
		})
	}
	wg.Wait()
	c.wall, c.cpu = time.Since(start), cpuTime()-cpu
	st := s.Stats()
	c.busy = st.Busy - st0.Busy
	if steps := st.Steps - st0.Steps; steps > 0 {
		c.meanBatch = float64(st.StepSeqs-st0.StepSeqs) / float64(steps)
	}
	for _, err := range errs {
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func request(ctx context.Context, s *sched.Scheduler, r model.Runner, prompt []int32, decode int, first func()) error {
	slot, err := s.Admit(ctx, "")
	if err != nil {
		return err
	}
	defer slot.Release()
	seq, err := r.NewSequence(len(prompt) + decode + 1)
	if err != nil {
		return err
	}
	defer seq.Close()
	logits, err := slot.Forward(ctx, seq, prompt)
	if err != nil {
		return err
	}
	first()
	tok := []int32{int32(argmax(logits))}
	for range decode {
		if logits, err = slot.Forward(ctx, seq, tok); err != nil {
			return err
		}
		tok[0] = int32(argmax(logits))
	}
	return nil
}

// percentile is the nearest-rank p-quantile of v.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	i := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func reportConcurrency(w io.Writer, results []ConcurrencyResult, asJSON bool) error {
	if asJSON {
		return writeJSON(w, results)
	}
	if len(results) == 0 {
		_, err := fmt.Fprintln(w, "no results")
		return err
	}
	r0 := results[0]
	fmt.Fprintf(w, "backend %s, %d threads; N requests at once, each %d prompt + %d decoded tokens; median of %d runs, the levels taking turns.\n",
		r0.Backend, r0.Threads, r0.Prompt, r0.Decode, r0.Runs)
	fmt.Fprintln(w, "tok/s: all requests' decoded tokens per second of wall time (prefill included); TTFT over every request of every run.")
	fmt.Fprintln(w, "Per CPU-s: decoded tokens per CPU second × threads, the rate with a core per thread (spinning workers count as busy).")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "precision\tconcurrency\ttok/s\tspeedup\tTTFT median\tTTFT p95\tmean batch\tper CPU-s\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2fx\t%.0f ms\t%.0f ms\t%.2f\t%.1f\t\n",
			r.Precision, r.Concurrency, r.TokS, r.Speedup, r.TTFTMedMs, r.TTFTP95Ms, r.MeanBatch, r.CPUTokS)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
