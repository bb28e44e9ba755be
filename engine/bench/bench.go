package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Options select what to measure. The zero value benchmarks every precision
// of the default model with the CPU executor.
type Options struct {
	Precisions []string // subset of Precisions; empty: all
	ModelDir   string   // benchmark this model directory instead of generated ones
	CacheDir   string   // where generated models are kept; "": the user cache dir
	Runs       int      // measured runs per model; 0: 3
	JSON       bool     // write the results as JSON instead of a table
	// NewRunner builds the executor under test; nil: engine/cpu with defaults.
	NewRunner func(*model.Model) (model.Runner, error)

	PromptTokens int          // prefill length; 0: 512 (llama-bench's pp512)
	DecodeTokens int          // decoded tokens; 0: 128 (llama-bench's tg128)
	Shape        Shape        // generated model; zero: DefaultShape
	Logger       *slog.Logger // progress; nil: discarded

	// MoE benchmarks a mixture of experts (Shape when it has Experts, else
	// MoEShape) and, after it, the dense model that reads as many weights
	// per token (Shape.Dense).
	MoE bool
}

// Result is one model's figures. Rates are the median over the runs, with
// the slowest and fastest run beside them.
type Result struct {
	Precision    string  `json:"precision"`
	Model        string  `json:"model"`
	Backend      string  `json:"backend"`
	Params       int64   `json:"params"`
	ActiveParams int64   `json:"active_params"` // parameters one decoded token reads (a dense model: all but the embedding table)
	WeightsBytes int64   `json:"weights_bytes"` // weight bytes one decoded token reads
	LoadS        float64 `json:"load_s"`        // model.Open + NewRunner
	PrefillTokS  float64 `json:"prefill_tok_s"`
	PrefillMin   float64 `json:"prefill_tok_s_min"`
	PrefillMax   float64 `json:"prefill_tok_s_max"`
	TTFTMs       float64 `json:"ttft_ms"` // prompt in, first token's logits out
	DecodeTokS   float64 `json:"decode_tok_s"`
	DecodeMin    float64 `json:"decode_tok_s_min"`
	DecodeMax    float64 `json:"decode_tok_s_max"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	// CPU-time rates: tokens per CPU second times Threads, what the rate
	// would be with every thread on a core of its own. On a machine shared
	// with other work they show the executor's own speed; idle workers
	// spinning between steps count as busy, so they err low.
	CPUPrefillTokS float64 `json:"cpu_prefill_tok_s,omitempty"`
	CPUDecodeTokS  float64 `json:"cpu_decode_tok_s,omitempty"`
	// BandwidthGBs is WeightsBytes × DecodeTokS: the memory traffic decode
	// sustains; BandwidthFraction divides each run's by the mean of the
	// STREAM triads measured right before and right after that run.
	BandwidthGBs      float64 `json:"bandwidth_gbs"`
	BandwidthFraction float64 `json:"bandwidth_fraction"` // median of each run's decode against the triads around it
	MachineGBs        float64 `json:"machine_gbs"`        // median of the STREAM triads measured before the first run and after each
	Threads           int     `json:"threads"`
	Runs              int     `json:"runs"`
}

func (o *Options) fill() error {
	if len(o.Precisions) == 0 {
		o.Precisions = Precisions
	}
	for _, p := range o.Precisions {
		if !isPrecision(p) {
			return fmt.Errorf("unknown precision %q (want one of %v)", p, Precisions)
		}
	}
	if o.CacheDir == "" && o.ModelDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no cache directory: %w", err)
		}
		o.CacheDir = filepath.Join(dir, "mlx-manager", "bench")
	}
	if o.Runs <= 0 {
		o.Runs = 3
	}
	if o.PromptTokens <= 0 {
		o.PromptTokens = 512
	}
	if o.DecodeTokens <= 0 {
		o.DecodeTokens = 128
	}
	if o.MoE && o.Shape.Experts == 0 {
		o.Shape = MoEShape
	}
	if o.Shape == (Shape{}) {
		o.Shape = DefaultShape
	}
	if o.NewRunner == nil {
		o.NewRunner = func(m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Logger: o.Logger})
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run measures memory bandwidth, then load time, prefill, time to first
// token, decode speed and peak memory of each model, and writes a table (or
// JSON) to w.
func Run(ctx context.Context, opts Options, w io.Writer) ([]Result, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	type target struct{ label, dir string }
	var targets []target
	if opts.ModelDir != "" {
		targets = append(targets, target{filepath.Base(opts.ModelDir), opts.ModelDir})
	} else {
		for _, p := range opts.Precisions {
			opts.Logger.Info("preparing model", "precision", p, "cache", opts.CacheDir)
			dir, generated, err := ensureModel(opts.CacheDir, p, opts.Shape)
			if err != nil {
				return nil, err
			}
			if generated {
				opts.Logger.Info("generated model", "precision", p, "dir", dir)
			}
			targets = append(targets, target{p, dir})
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if opts.MoE {
			for i := range targets {
				targets[i].label += " moe"
			}
			for _, p := range opts.Precisions {
				dir, _, err := ensureModel(opts.CacheDir, p, opts.Shape.Dense())
				if err != nil {
					return nil, err
				}
				targets = append(targets, target{p + " dense", dir})
			}
		}
	}
	var results []Result
	for _, t := range targets {
		r, err := measure(ctx, &opts, t.label, t.dir)
		if err != nil {
			return results, fmt.Errorf("bench %s: %w", t.label, err)
		}
		results = append(results, r)
	}
	if err := report(w, results, opts.JSON); err != nil {
		return results, err
	}
	return results, nil
}

// weightBytes is what one decoded token reads: the runner's own figure when
// it has one, else every weight except the untied embedding table, of which
// decode reads a single row.
func weightBytes(m *model.Model, r model.Runner) int64 {
	if wb, ok := r.(interface{ WeightBytes() int64 }); ok {
		return wb.WeightBytes()
	}
	n := m.WeightBytes()
	if !m.Config.TieWordEmbeddings && len(m.Params.Linears) > 0 {
		e := m.Params.Linears[0] // the embedding table, bound first
		for _, t := range []*model.Tensor{&e.Weight, e.Scales, e.Biases} {
			if t != nil {
				n -= int64(len(t.Data))
			}
		}
	}
	return n
}

func measure(ctx context.Context, o *Options, label, dir string) (Result, error) {
	debug.FreeOSMemory()
	resetPeakRSS()
	start := time.Now()
	m, err := model.Open(ctx, dir)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	r, err := o.NewRunner(m)
	if err != nil {
		return Result{}, err
	}
	defer r.Close()
	res := Result{
		Precision: label, Model: dir, Backend: r.Backend(), LoadS: time.Since(start).Seconds(),
		WeightsBytes: weightBytes(m, r), Threads: runtime.GOMAXPROCS(0), Runs: o.Runs,
	}
	res.ActiveParams, res.Params = paramCount(m)
	prompt := promptTokens(o.PromptTokens, m.Config.VocabSize)
	// Warm-up: fault in the mapped weights and size the scratch buffers.
	if _, err := timeRun(ctx, r, prompt[:min(32, len(prompt))], 4); err != nil {
		return res, err
	}
	// Each run's decode is set against the mean of the triads right before
	// and right after it: the host's memory traffic moves this machine's
	// bandwidth by a third within minutes (and a VM's by more), so a figure
	// taken a minute away says as much about the host as about decode.
	triad := func() float64 {
		gbs := Triad(0)
		debug.FreeOSMemory()
		resetPeakRSS() // the triad's arrays are not the model's peak
		return gbs
	}
	before := triad()
	triads := []float64{before}
	var prefill, decode, ttft, cpuPre, cpuDec, fractions []float64
	for i := 0; i < o.Runs; i++ {
		o.Logger.Info("run", "precision", label, "run", i+1)
		t, err := timeRun(ctx, r, prompt, o.DecodeTokens)
		if err != nil {
			return res, err
		}
		prefill = append(prefill, float64(len(prompt))/t.pre.Seconds())
		ttft = append(ttft, float64(t.pre.Microseconds())/1e3)
		dec := float64(o.DecodeTokens) / t.dec.Seconds()
		decode = append(decode, dec)
		if t.cpuPre > 0 && t.cpuDec > 0 {
			cpuPre = append(cpuPre, float64(len(prompt)*res.Threads)/t.cpuPre.Seconds())
			cpuDec = append(cpuDec, float64(o.DecodeTokens*res.Threads)/t.cpuDec.Seconds())
		}
		res.PeakRSSMB = max(res.PeakRSSMB, peakRSSMB())
		after := triad()
		triads = append(triads, after)
		if gbs := (before + after) / 2; gbs > 0 {
			fractions = append(fractions, float64(res.WeightsBytes)*dec/1e9/gbs)
		}
		before = after
	}
	res.PrefillTokS, res.PrefillMin, res.PrefillMax = spread(prefill)
	res.DecodeTokS, res.DecodeMin, res.DecodeMax = spread(decode)
	res.CPUPrefillTokS, _, _ = spread(cpuPre)
	res.CPUDecodeTokS, _, _ = spread(cpuDec)
	res.TTFTMs, _, _ = spread(ttft)
	res.BandwidthGBs = float64(res.WeightsBytes) * res.DecodeTokS / 1e9
	res.MachineGBs, _, _ = spread(triads)
	res.BandwidthFraction, _, _ = spread(fractions)
	return res, nil
}

// timing is one run's wall and process CPU times.
type timing struct{ pre, dec, cpuPre, cpuDec time.Duration }

// timeRun times a prefill of prompt on a fresh sequence (its end is the time
// to first token) and, like llama-bench's tg test, decoding n tokens greedily
// on another fresh sequence starting from BOS.
func timeRun(ctx context.Context, r model.Runner, prompt []int32, n int) (timing, error) {
	var t timing
	seq, err := r.NewSequence(len(prompt))
	if err != nil {
		return t, err
	}
	start, cpu := time.Now(), cpuTime()
	_, err = seq.Forward(ctx, prompt)
	t.pre, t.cpuPre = time.Since(start), cpuTime()-cpu
	_ = seq.Close()
	if err != nil {
		return t, err
	}
	if seq, err = r.NewSequence(n); err != nil {
		return t, err
	}
	defer seq.Close()
	tok := []int32{1}
	start, cpu = time.Now(), cpuTime()
	for i := 0; i < n; i++ {
		logits, err := seq.Forward(ctx, tok)
		if err != nil {
			return t, err
		}
		tok[0] = int32(argmax(logits))
	}
	t.dec, t.cpuDec = time.Since(start), cpuTime()-cpu
	return t, nil
}

// promptTokens is a fixed pseudo-random prompt (ids 3.. skip the specials).
func promptTokens(n, vocab int) []int32 {
	if vocab <= 3 {
		return make([]int32, n)
	}
	p := make([]int32, n)
	x := uint32(12345)
	for i := range p {
		x = x*1664525 + 1013904223
		p[i] = int32(3 + int(x>>8)%(vocab-3))
	}
	return p
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// spread returns the median, minimum and maximum.
func spread(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := slices.Sorted(slices.Values(v))
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return med, s[0], s[len(s)-1]
}

// paramCount is how many parameters one decoded token reads, and the total.
func paramCount(m *model.Model) (active, total int64) {
	c := m.Config
	if sc, ok := c.Family.(model.SparseCounter); ok {
		return sc.Active(c)
	}
	hd := c.HeadDim
	h, q, kv := int64(c.HiddenSize), int64(c.NumAttentionHeads*hd), int64(c.NumKeyValueHeads*hd)
	layer := 2*h*q + 2*kv*h + 3*int64(c.IntermediateSize)*h + 2*h
	n := int64(c.NumHiddenLayers)*layer + int64(c.VocabSize)*h + h
	if !c.TieWordEmbeddings {
		n += int64(c.VocabSize) * h
		return n - int64(c.VocabSize)*h, n
	}
	return n, n
}
