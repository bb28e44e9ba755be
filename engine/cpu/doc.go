// Package cpu is the native CPU executor: New turns an opened model.Model into
// a model.Runner whose sequences run prefill (a chunk of tokens through
// matrix × matrix products) and decode (one token through matrix × vector
// products) with the kernels of engine/cpu/kern, on weights read in place
// from the memory-mapped safetensors files (F32, F16, BF16 and MLX affine
// 2- to 8-bit), or quantized at load to MLX 8 or 4 bits when asked.
//
// It knows no architecture: a sequence is the model.Ops a family's forward
// pass (model.Definition) runs on (ops.go), each operation mapped onto the
// kernels (q/k/v and gate/up as one parallel step when decoding), so every
// registered family runs here and passes engine/enginetest against the
// float64 reference. See design.md for the memory layout and threading.
//
// Who may import me: app (which wires me in as the executor) and engine/bench.
// I import engine/model and engine/cpu/kern only.
package cpu
