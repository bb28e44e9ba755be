package cpu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// FloatActivations keeps the input of Q8 and Q4 products in float32, exact
	// as the float64 references compute. By default, where the kernel set has
	// integer kernels (kern.HasIntKernels), that input is quantized per group
	// to int16 for integer multiply-adds: about 1.5 times the decode speed of
	// quantized weights, and in prefill too where the set has the int16
	// prefill kernel (kern.HasIntPrefill: AVX512_VNNI, ~1.45× the prompt
	// speed), at a next-token KL divergence measured in qint_test.go and
	// qintprefill_test.go. FloatActivations turns both off.
	FloatActivations bool
	// Int8Prefill quantizes each prompt token's input of products with MLX
	// 4-bit weights per block of 32 to int8 for byte multiply-adds, where
	// the kernel set has them (kern.HasInt8Prefill; llama.cpp's Q8_0
	// activations): about 1.2 times those products' speed on Zen 1, at a
	// next-token KL divergence of ~1e-3 nats (qint8_test.go), ten times
	// issue #19's 1e-4 bound, hence off by default. Decode is not affected.
	Int8Prefill bool
	// BF16Prefill rounds each prompt token's input of products with BF16
	// weights to bfloat16 for AVX512_BF16's dot products (VDPBF16PS), where
	// the kernel set has them (kern.HasBF16Prefill; llama.cpp does the
	// same): about 1.2-2 times those products' speed per CPU second on Zen
	// 5, at a mean next-token KL divergence of 3e-6 to 3e-5 nats
	// (bf16prefill_test.go), within issue #19's 1e-4 bound. Decode is not
	// affected. Without the kernel it changes nothing.
	BF16Prefill bool
	// bf16Anywhere makes BF16Prefill round in every kernel set (the float
	// kernels then sum the rounded inputs): tests measure its error on any
	// CPU.
	bf16Anywhere bool
	// QuantizeBits quantizes float (F32/F16/BF16) weights at load to MLX
	// affine 8 or 4 bits, as llama.cpp users quantize; 0 keeps them as stored.
	// Matrices whose input size is not a multiple of the group stay float.
	QuantizeBits  int
	QuantizeGroup int // group size for QuantizeBits; 0: 64
	// PrefillChunk is how many prompt tokens go through the layers together;
	// 0: 256. Larger chunks read the weights fewer times but use more memory.
	PrefillChunk int
	// KVBlock is how many positions each block of a sequence's KV cache
	// holds; 0: 256. The cache grows a block at a time up to the sequence's
	// length, so a short conversation holds little memory; larger blocks
	// allocate less often, smaller ones waste less of the last block.
	KVBlock int
	Logger  *slog.Logger // nil: slog.Default()
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
	if o.KVBlock <= 0 {
		o.KVBlock = 256
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// Runner executes one model on the CPU: the family's forward pass
// (model.Definition) over this package's operations. Weights stay where
// model.Open mapped them (unless quantized at load); all sequences share one
// worker pool.
type Runner struct {
	cfg   *model.Config
	opts  Options
	def   model.Definition
	pool  *kern.Pool
	lins  map[*model.Linear]*linear   // every bound layer, read-only after New
	vecs  map[*model.Tensor][]float32 // every bound vector, read-only after New
	kvDim int                         // values per token and layer in the KV cache
	mrope bool                        // the model's rotary positions follow its images (model.MRoPE)
	bytes int64                       // weight bytes read per decoded token

	// offsets holds w+offset of norm weights used with an offset (Gemma's
	// 1+w), made on first use: *model.Tensor → []float32.
	offsets sync.Map

	mu     sync.RWMutex // held for reading while a sequence computes, for writing by Close
	closed bool         // guarded by mu

	ropeMu sync.Mutex
	ropes  map[*model.Rope]*ropeTables // guarded by ropeMu; grown to the longest sequence asked for

	kvBytes  atomic.Int64       // KV blocks held by open sequences
	budgetMu sync.Mutex         // guards budget, and orders kvBytes' changes with the budget's
	budget   model.MemoryBudget // nil: KV blocks are not reserved from anyone (or the runner closed)
}

// ropeTables are the cos/sin tables of one model.Rope.
type ropeTables struct {
	short, long *kern.Rope // long is nil unless the rope has LongFreqs
	pairs       []uint8    // M-RoPE: the position component of each pair (model.MRoPEPairs); nil: none
}

// New prepares m for execution. The model must stay open while the runner
// is used.
func New(m *model.Model, opts Options) (model.Runner, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if m.Def == nil {
		return nil, fmt.Errorf("cpu: load %s: no forward pass bound", m.Dir)
	}
	start := time.Now()
	c := m.Config
	r := &Runner{
		cfg: c, opts: opts, def: m.Def, pool: kern.NewPool(opts.Threads),
		kvDim: c.NumKeyValueHeads * c.HeadDim,
		ropes: map[*model.Rope]*ropeTables{},
		mrope: model.UsesMRoPE(m.Def),
	}
	if err := r.load(m); err != nil {
		r.pool.Close()
		return nil, fmt.Errorf("cpu: load %s: %w", m.Dir, err)
	}
	acts := "f32"
	if !opts.FloatActivations && kern.HasIntKernels() {
		acts = "int16"
	}
	opts.Logger.Info("cpu runner ready", "model", m.Dir, "backend", r.Backend(),
		"threads", r.pool.Threads(), "bytes", r.bytes, "activations", acts,
		"int8_prefill", opts.Int8Prefill && kern.HasInt8Prefill(),
		"bf16_prefill", opts.BF16Prefill && kern.HasBF16Prefill(), "dur", time.Since(start))
	return r, nil
}

func (r *Runner) load(m *model.Model) error {
	ld := &loader{pool: r.pool, opts: r.opts, mats: map[*byte]*kern.Mat{}, uses: map[*kern.Mat]int{}}
	r.lins = make(map[*model.Linear]*linear, len(m.Params.Linears))
	for _, l := range m.Params.Linears {
		lw, err := ld.linear(l)
		if err != nil {
			return err
		}
		r.lins[l] = &lw
	}
	r.vecs = make(map[*model.Tensor][]float32, len(m.Params.Vectors))
	for _, t := range m.Params.Vectors {
		v, err := t.Float32s()
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		r.vecs[t] = v
	}
	r.bytes = ld.bytes
	if len(m.Params.Linears) > 0 {
		// Decode reads one row of an embedding table that is not also the
		// output head, not the whole table.
		if e := r.lins[m.Params.Linears[0]].w; ld.uses[e] == 1 {
			r.bytes -= e.Bytes()
		}
	}
	r.bytes = r.activeBytes(r.bytes, m.Params.MoEs)
	return nil
}

// lin is the prepared form of a bound layer.
func (r *Runner) lin(l *model.Linear) *linear {
	p, ok := r.lins[l]
	if !ok {
		panic(fmt.Sprintf("cpu: layer %s was not bound", l.Weight.Name))
	}
	return p
}

// vec is a bound vector, plus offset when it is not 0.
func (r *Runner) vec(t *model.Tensor, offset float64) []float32 {
	v, ok := r.vecs[t]
	if !ok {
		panic(fmt.Sprintf("cpu: vector %s was not bound", t.Name))
	}
	if offset == 0 {
		return v
	}
	if o, ok := r.offsets.Load(t); ok {
		return o.([]float32)
	}
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = float32(float64(x) + offset)
	}
	got, _ := r.offsets.LoadOrStore(t, o)
	return got.([]float32)
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
		r.closeBudget()
	}
	return nil
}

// ropeFor returns the tables of rope covering n positions, extending the
// shared tables when a longer sequence than before is asked for.
func (r *Runner) ropeFor(rope *model.Rope, n int) *ropeTables {
	r.ropeMu.Lock()
	defer r.ropeMu.Unlock()
	t := r.ropes[rope]
	if t == nil || t.short.MaxPos < n {
		size := n
		if t != nil {
			size = min(max(n, 2*t.short.MaxPos), r.cfg.MaxPositionEmbeddings)
		}
		t = &ropeTables{short: kern.NewRope(size, rope.Freqs)}
		if rope.LongFreqs != nil {
			t.long = kern.NewRope(size, rope.LongFreqs)
		}
		if rope.Sections != nil {
			t.pairs, _ = model.MRoPEPairs(rope) // nil on error: RoPE panics with the rope's shape
		}
		r.ropes[rope] = t
	}
	return t
}
