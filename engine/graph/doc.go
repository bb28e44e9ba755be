// Package graph is the gomlx executor: it implements model.Ops over gomlx graph
// nodes, so every family's forward pass (model.Definition) becomes a gomlx
// computation graph. It exists as the cross-check for engine/cpu: an
// independent implementation of the same operations, built from gomlx's ops
// rather than our kernels.
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
// Every bound tensor is uploaded once (tied ones share a copy) and found by
// its address, the handle the family's forward pass passes to the operations.
// On the pure-Go backend, which spreads a matrix product over
// cores only along a batch axis, large matrices are stored as one row block
// per core so that decode is not single-threaded (see linear.go). Its ops run
// in sequence: gomlx v0.26.0's parallel op scheduler has a data race the race
// detector reports, and measured no faster here.
//
// # Shapes and compilation
//
// gomlx compiles one graph per distinct input shape, so shapes come from
// short lists. A call's tokens are cut into chunks of at most 64 rows and the
// last one is padded to a chunk bucket (padding rows are masked and never
// written to the cache); the KV cache grows through powers of two. Bucket
// granularity follows compile cost: the pure-Go backend builds a graph in
// about a millisecond, so it uses chunks of 1, 2, 4, ..., 64 and caches from
// 16 slots, wasting little on padding; XLA compiles for seconds, so it uses
// chunks of 1, 8 and 64 and caches from 64. A runner compiles at most
// (chunk buckets) × (cache buckets up to maxLen) × 2 (logits, hidden) graphs;
// gomlx Exec's default limit of 32 is lifted (SetMaxCache(-1)) because the
// buckets bound the count. Rotary angles are computed in the graph in float64
// (positions times the family's already-scaled frequencies) and only cos and
// sin are converted to float32, which keeps long positions exact.
//
// # KV cache
//
// The cache stays on the device: per layer one (cacheLen, kvHeads, headDim)
// tensor for K and one for V, passed into each step as donated buffers and
// returned updated, so a step moves no cache data between host and device
// (feeding it from Go would copy the whole cache in on every step, a
// host-to-device transfer per token on an accelerator). The update cannot use
// DynamicUpdateSlice, which the pure-Go backend lacks (as it lacks Pad and
// DynamicSlice): the new cache is gathered row by row from the old cache
// followed by the chunk, one pass over the cache per step, the same order as
// attention reading it. Growing to the next bucket copies through the host, a
// handful of times per sequence. Slots past Len are masked in attention, so
// Truncate only moves the length.
//
// # Errors
//
// gomlx reports errors by panicking; every exported method recovers at the
// package boundary and returns an error. A step that fails after its cache
// buffers were donated leaves the sequence empty (Len 0). Cancellation is
// checked between chunks. Close on the runner waits for running steps.
//
// Who may import me: app (which wires me in as the executor) and tests.
// I import engine/model and
// gomlx; never engine/cpu, api or store.
package graph
