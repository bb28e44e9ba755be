package model

// A family's forward pass is written once against Ops; each executor (engine/cpu,
// engine/model/reference, ...) implements Ops, not the families. The operations
// are coarse on purpose: a linear layer, a norm, an attention over the layer's
// KV cache, so an executor can run each with its own fused kernels.
//
// Values are opaque executor tensors of shape (rows, cols): one row per token of
// the batch being appended (a prefill chunk, or one token when decoding). The
// CPU executor's are float32 buffers from a per-sequence arena, the reference's
// float64 slices. A Value is valid until the family method that produced it
// returns, except the one it returns.

// Value is an executor's tensor of shape (tokens, features).
type Value any

// Ops are the operations a family's forward pass may use. Shape errors are
// programming errors of the family: executors panic on them and turn the panic
// into an error of the call that ran the forward pass.
type Ops interface {
	// Embed looks up the embedding rows of the batch's tokens in w (vocab,
	// hidden), which may be quantized: (tokens, hidden).
	Embed(w *Linear) Value
	// Linear is x·Wᵀ (+ w.Bias) for each row; W may be MLX-quantized.
	Linear(x Value, w *Linear) Value
	// Linear2 and Linear3 are several Linears of the same input: q, k, v or
	// gate, up. An executor may run them as one parallel step.
	Linear2(x Value, a, b *Linear) (Value, Value)
	Linear3(x Value, a, b, c *Linear) (Value, Value, Value)
	// RMSNorm normalises each consecutive group of len(w) features of every
	// row: g / sqrt(mean(g²) + eps) * (w + offset). A weight as long as the row
	// normalises the whole row; one of head_dim normalises each head (Qwen3's
	// q/k norms). offset is 1 for Gemma's (1 + w) norms, 0 otherwise; a given
	// weight is always used with the same offset.
	RMSNorm(x Value, w *Tensor, eps, offset float64) Value
	// LayerNorm is (x - mean) / sqrt(var + eps) * w + b over each row; b may be nil.
	LayerNorm(x Value, w, b *Tensor, eps float64) Value
	// RoPE rotates every head of every row by the row's position in the
	// sequence, as r describes. It may overwrite x.
	RoPE(x Value, r *Rope) Value
	// Attention appends k and v (tokens, kvHeads*headDim) to layer's KV cache
	// and returns the attention of q (tokens, heads*headDim) over the cache as
	// a describes: (tokens, heads*headDim).
	Attention(layer int, q, k, v Value, a *Attention) Value
	// GLU is act(gate) * up. It may overwrite gate.
	GLU(gate, up Value, act Activation) Value
	// Add is x + y. It may overwrite x, which the caller must not use afterwards.
	Add(x, y Value) Value
	// Mul is x * y elementwise. It may overwrite x.
	Mul(x, y Value) Value
	// Scale is x * s. It may overwrite x.
	Scale(x Value, s float64) Value
	// Softcap is cap * tanh(x / cap). It may overwrite x.
	Softcap(x Value, cap float64) Value
	// MoE is the sparse mixture-of-experts block m on every row of x
	// (tokens, hidden): routing and weighting as MoE describes. An executor
	// runs an expert only on the rows routed to it.
	MoE(x Value, m *MoE) Value
}

// Activation selects the gate function of GLU.
type Activation int

const (
	// SiLU is x·sigmoid(x): SwiGLU of Llama, Mistral, Qwen, Phi-3, Granite, OLMo.
	SiLU Activation = iota
	// GELUTanh is the tanh approximation of GELU (gelu_pytorch_tanh): Gemma's GeGLU.
	GELUTanh
)

// Rope describes rotary position embeddings in HF's rotate_half pairing: in
// each head, the pair (x[i], x[i+Dims/2]) for i < Dims/2 is rotated by angle
// pos*Freqs[i]; features from Dims on are left alone (partial rotary).
type Rope struct {
	HeadDim int       // features per head
	Dims    int       // rotated features per head, even, ≤ HeadDim
	Freqs   []float64 // (Dims/2) inverse frequencies, already rescaled (linear, llama3, ...)
	// LongFreqs, when set, replace Freqs for the rows at positions ≥ LongFrom
	// (longrope's long factors). transformers switches a whole forward call
	// to them once the sequence outgrows original_max_position_embeddings;
	// deciding per position instead keeps the result independent of how a
	// prompt is cut into chunks, and equals transformers whenever the
	// sequence stays on one side of LongFrom.
	LongFreqs []float64
	LongFrom  int
	// Scale multiplies cos and sin (longrope's attention factor); 0 means 1.
	Scale float64
	// Sections, when set, is Qwen2-VL's mrope_section: the pairs are cut
	// into len(Sections) runs of Sections[k] (in order, summing to Dims/2),
	// and run k rotates by component k of the row's three-dimensional
	// position (temporal, height, width) instead of its one position
	// (mrope.go). Text rows have three equal components.
	Sections []int
}

// Attention describes one layer's attention: grouped-query heads (query head h
// reads KV head h/(Heads/KVHeads)), scores scaled by Scale, optionally soft-capped,
// and a causal mask limited to the last Window keys when Window > 0.
type Attention struct {
	Heads, KVHeads, HeadDim int
	Scale                   float64 // usually 1/sqrt(HeadDim); Gemma: query_pre_attn_scalar^-0.5
	Window                  int     // 0: full causal attention; else key j is seen from query i when i-j < Window
	Softcap                 float64 // 0: none; else scores become Softcap*tanh(scores/Softcap)
	// Bidirectional lets every query see every key of the sequence (encoders);
	// Window is then ignored.
	Bidirectional bool
	// Radius, with Bidirectional, limits query i to the keys j with
	// |i-j| <= Radius (ModernBERT's local layers); 0: every key.
	Radius int
	// Sinks, when set, is one learned logit per query head (Heads) that joins
	// the head's softmax without a value row (GPT-OSS's attention sinks): the
	// weights become exp(s_j) / (exp(sink) + Σ exp(s_j)), so a head may give
	// part of its attention to nothing.
	Sinks *Tensor
}

// Definition is one loaded model of a family: its bound weights and its
// forward pass. An executor runs a batch of tokens as
//
//	x := Embed(o); for l := range Layers() { x = Layer(o, l, x) }
//
// then Norm on the rows it needs and Logits on the last one. Definitions
// hold only read-only state; one may serve many sequences at once.
type Definition interface {
	// Layers is the number of transformer blocks, each with its own KV cache.
	Layers() int
	// Embed is the input of the first block, (tokens, hidden).
	Embed(o Ops) Value
	// Layer runs block l on the residual stream x and returns the new stream.
	Layer(o Ops, l int, x Value) Value
	// Norm is the final norm of the residual stream: the hidden states.
	Norm(o Ops, x Value) Value
	// Logits maps hidden states (tokens, hidden) to logits (tokens, vocab).
	Logits(o Ops, h Value) Value
}
