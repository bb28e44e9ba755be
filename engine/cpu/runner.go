package cpu

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// ErrClosed is returned by sequences of a closed runner and by closed sequences.
var ErrClosed = errors.New("cpu runner closed")

// Options tune the executor. The zero value is a good default.
type Options struct {
	Threads int // goroutines sharing each product; 0: GOMAXPROCS
	// KVF16 stores the KV cache in half precision: half the memory and
	// bandwidth, at about 1e-3 relative error in attention. It is the
	// default where the kernels are SIMD ones (which widen halves in
	// registers); fill sets it unless KVF32 asks for float32.
	KVF16 bool
	KVF32 bool // keep the KV cache in float32 (exact; twice the memory)
	// QuantizeBits quantizes float (F32/F16/BF16) weights at load to MLX
	// affine 8 or 4 bits, as llama.cpp users quantize; 0 keeps them as stored.
	// Matrices whose input size is not a multiple of the group stay float.
	QuantizeBits  int
	QuantizeGroup int // group size for QuantizeBits; 0: 64
	// PrefillChunk is how many prompt tokens go through the layers together;
	// 0: 256. Larger chunks read the weights fewer times but use more memory.
	PrefillChunk int
	Logger       *slog.Logger // nil: slog.Default()
}

// halfKV reports whether sequences keep their KV cache in half precision:
// when asked, and by default where the kernels are SIMD ones (the plain-Go
// set converts halves one at a time, which costs more than it saves).
func (o *Options) halfKV() bool { return !o.KVF32 && (o.KVF16 || kern.Backend() != "go") }

func (o *Options) fill() error {
	switch o.QuantizeBits {
	case 0, 4, 8:
	default:
		return fmt.Errorf("cpu: quantize to %d bits: 4 or 8 are supported", o.QuantizeBits)
	}
	if o.QuantizeGroup == 0 {
		o.QuantizeGroup = 64
	}
	if o.QuantizeGroup < 32 || o.QuantizeGroup%32 != 0 {
		return fmt.Errorf("cpu: quantization group %d is not a multiple of 32", o.QuantizeGroup)
	}
	if o.KVF16 && o.KVF32 {
		return errors.New("cpu: KVF16 and KVF32 both set")
	}
	o.KVF16 = o.halfKV()
	if o.PrefillChunk <= 0 {
		o.PrefillChunk = 256
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// Runner executes one model on the CPU. Weights stay where model.Open mapped
// them (unless quantized at load); all sequences share one worker pool.
type Runner struct {
	cfg    *model.Config
	opts   Options
	pool   *kern.Pool
	embed  *kern.Mat // (vocab, hidden)
	lmHead *kern.Mat // (vocab, hidden); the same matrix as embed when tied
	lmBias []float32 // (vocab); nil when absent
	norm   []float32 // (hidden)
	layers []layer
	attn   kern.Attn
	eps    float32
	freqs  []float64 // (headDim/2) RoPE inverse frequencies
	bytes  int64     // weight bytes read per decoded token

	mu     sync.RWMutex // held for reading while a sequence computes, for writing by Close
	closed bool         // guarded by mu

	ropeMu sync.Mutex
	rope   *kern.Rope // guarded by ropeMu; grown to the longest sequence asked for
}

type layer struct {
	attnNorm, mlpNorm []float32 // (hidden)
	qNorm, kNorm      []float32 // (headDim); nil unless Qwen3
	q, k, v, o        linear
	gate, up, down    linear
}

// New prepares m for execution. The model must stay open while the runner
// is used.
func New(m *model.Model, opts Options) (model.Runner, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	start := time.Now()
	c := m.Config
	r := &Runner{
		cfg: c, opts: opts, pool: kern.NewPool(opts.Threads),
		attn: kern.Attn{
			Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: float32(1 / math.Sqrt(float64(c.HeadDim))), Window: c.SlidingWindow,
		},
		eps:   float32(c.RMSNormEps),
		freqs: model.RopeFreqs(c),
	}
	if err := r.load(m); err != nil {
		r.pool.Close()
		return nil, fmt.Errorf("cpu: load %s: %w", m.Dir, err)
	}
	opts.Logger.Info("cpu runner ready", "model", m.Dir, "backend", r.Backend(),
		"threads", r.pool.Threads(), "bytes", r.bytes, "dur", time.Since(start))
	return r, nil
}

func (r *Runner) load(m *model.Model) error {
	c, w := m.Config, &m.Weights
	ld := &loader{pool: r.pool, opts: r.opts, mats: map[*byte]*kern.Mat{}}
	var err error
	if r.embed, err = ld.mat(&w.Embed); err != nil {
		return fmt.Errorf("embeddings: %w", err)
	}
	if r.lmHead, err = ld.mat(&w.LMHead); err != nil {
		return fmt.Errorf("lm_head: %w", err)
	}
	if w.LMHead.Bias != nil {
		if r.lmBias, err = floats(w.LMHead.Bias, c.VocabSize); err != nil {
			return err
		}
	}
	if r.norm, err = floats(&w.Norm, c.HiddenSize); err != nil {
		return err
	}
	r.layers = make([]layer, len(w.Layers))
	for i := range w.Layers {
		if err := r.loadLayer(ld, &r.layers[i], &w.Layers[i]); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	r.bytes = ld.bytes
	if r.embed != r.lmHead {
		// Decode reads one embedding row, not the whole table.
		r.bytes -= r.embed.Bytes()
	}
	return nil
}

func (r *Runner) loadLayer(ld *loader, dst *layer, l *model.Layer) error {
	c := r.cfg
	var err error
	if dst.attnNorm, err = floats(&l.AttnNorm, c.HiddenSize); err != nil {
		return err
	}
	if dst.mlpNorm, err = floats(&l.MLPNorm, c.HiddenSize); err != nil {
		return err
	}
	if l.QNorm != nil {
		if dst.qNorm, err = floats(l.QNorm, c.HeadDim); err != nil {
			return err
		}
	}
	if l.KNorm != nil {
		if dst.kNorm, err = floats(l.KNorm, c.HeadDim); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		dst *linear
		src *model.Linear
	}{{&dst.q, &l.Q}, {&dst.k, &l.K}, {&dst.v, &l.V}, {&dst.o, &l.O}, {&dst.gate, &l.Gate}, {&dst.up, &l.Up}, {&dst.down, &l.Down}} {
		if *p.dst, err = ld.linear(p.src); err != nil {
			return err
		}
	}
	return nil
}

// Backend is "cpu/" and the kernel set: "avx512", "avx2" or "go".
func (r *Runner) Backend() string { return "cpu/" + kern.Backend() }

// WeightBytes is how many bytes of weights one decoded token reads: the
// figure behind decode bandwidth.
func (r *Runner) WeightBytes() int64 { return r.bytes }

// Close stops the worker pool. Sequences still open fail with ErrClosed.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.pool.Close()
	}
	return nil
}

// ropeFor returns RoPE tables covering n positions, extending the shared
// table when a longer sequence than before is asked for.
func (r *Runner) ropeFor(n int) *kern.Rope {
	r.ropeMu.Lock()
	defer r.ropeMu.Unlock()
	if r.rope == nil || r.rope.MaxPos < n {
		size := n
		if r.rope != nil {
			size = min(max(n, 2*r.rope.MaxPos), r.cfg.MaxPositionEmbeddings)
		}
		r.rope = kern.NewRope(size, r.freqs)
	}
	return r.rope
}
