// Package graph is the gomlx executor: it runs Llama-style decoders (Llama 2/3/3.x
// with llama3 or linear RoPE scaling, Mistral with its sliding window, Qwen2 q/k/v
// biases, Qwen3 q/k norms, tied embeddings, grouped-query attention, SwiGLU,
// RMSNorm, rotate_half RoPE) as a gomlx computation graph. It exists as the
// cross-check for engine/cpu: an independent implementation of the same
// model.Runner, built from gomlx's ops rather than our kernels.
//
// # Backend
//
// New picks XLA when a PJRT plugin is installed (CUDA, then ROCm, Metal, CPU)
// and gomlx's pure-Go backend ("simplego") otherwise, and logs the choice;
// Options.Backend forces one ("go", "xla", "xla:cpu"). gomlx's automatic
// download of PJRT plugins is switched off: we only use what the machine has.
// XLA needs cgo on linux/amd64 or darwin; builds without it (or with the
// noxla tag) have the pure-Go backend only. Backend() reports
// "gomlx/simplego" or "gomlx/xla:<plugin>".
//
// # Weights
//
// Every weight is converted to float32 at load — F16/BF16 decoded, MLX
// affine-quantized layers dequantized — and uploaded once, shared with host
// memory where the backend allows. The pure-Go backend panics on F16 and
// sub-byte types inside its worker goroutines, where no recover reaches, so
// nothing else may reach it; and this executor is the accurate reference, not
// the fast path. Linear weights stay (out, in) as stored: the graph contracts
// the `in` axis of both operands (DotGeneral), because on the pure-Go backend
// an (in, out) layout, or a transpose per call, is about 20x slower.
//
// # Shapes and compilation
//
// gomlx compiles one graph per distinct input shape, so shapes come from short
// lists. A call's tokens are cut into chunks of at most 64 and each chunk is
// padded to 1, 8 or 64 rows (padding rows are masked and never written to the
// cache). The KV cache grows through powers of two from 64 slots. A runner
// therefore compiles at most 3 chunk sizes × log2(maxLen/64)+1 cache sizes × 2
// outputs (logits, hidden states); Exec's default limit of 32 graphs is lifted
// (SetMaxCache(-1)) since the buckets bound the count. Rotary cos/sin are
// computed on the host in float64 for each chunk's positions and fed in, which
// keeps RoPE scaling out of the graph.
//
// # KV cache
//
// The cache stays on the device: per layer one (cacheLen, kvHeads*headDim)
// tensor for K and one for V, passed into each step as donated buffers and
// returned updated. Feeding it from Go instead would copy the whole cache to
// the device on every step, which on an accelerator is a host-to-device
// transfer per token. The update cannot use DynamicUpdateSlice (the pure-Go
// backend lacks it, as it lacks Pad and DynamicSlice): the step gathers a
// cache-sized tensor from the chunk's rows and selects it where a slot is
// being written. That costs a pass over the cache per step, the same order as
// the attention reading it. Growing to the next bucket copies through the host,
// a handful of times per sequence. Slots past Len are masked in attention, so
// Truncate only moves the length.
//
// # Errors
//
// gomlx reports errors by panicking; every exported method recovers at the
// package boundary and returns an error. A step that fails after its cache
// buffers were donated leaves the sequence empty (Len 0). Cancellation is
// checked between chunks. Close on the runner waits for running steps.
//
// Who may import me: engine (the facade) and tests. I import engine/model and
// gomlx; never engine/cpu, api or store.
package graph
