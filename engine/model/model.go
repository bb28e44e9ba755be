package model

import "context"

// DType is a safetensors element type name ("F32", "F16", "BF16", "U32", "I8", "U8", ...).
type DType string

// Tensor is one stored tensor. Data aliases the file's memory (mapped or held: safetensors.Open): never write to it.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Linear is a linear layer y = W·x (+ Bias), with W stored [out, in].
// When Bits > 0 the layer is MLX affine-quantized: Weight is U32 (out, in*Bits/32),
// Scales and Biases are (out, in/GroupSize) in the model's float dtype, and each
// weight is scale*q + bias for its group.
type Linear struct {
	Weight    Tensor  // (out, in) float, or (out, in*Bits/32) U32 when quantized
	Scales    *Tensor // (out, in/GroupSize); nil unless quantized
	Biases    *Tensor // (out, in/GroupSize); nil unless quantized
	Bias      *Tensor // (out) additive bias (Qwen2 q/k/v); nil when absent
	Bits      int     // 0 = not quantized
	GroupSize int
	// MXFP4 marks MLX's "mxfp4" mode (Bits 4, GroupSize 32): the codes are
	// E2M1 values, Scales are U8 E8M0 exponents (2^(e-127)) and there are
	// no Biases (quant.go DequantizeMXFP4Row).
	MXFP4 bool
}

// Runner executes one loaded model. It is safe for concurrent use by several
// Sequences; each Sequence is used by one goroutine at a time.
type Runner interface {
	// Backend names the executor for logs and the API ("cpu/avx512", "gomlx/xla:cpu", ...).
	Backend() string
	// NewSequence starts an empty sequence with room for maxLen tokens of KV cache.
	NewSequence(maxLen int) (Sequence, error)
	// Close releases the runner's resources. Sequences must be closed first.
	Close() error
}

// Sequence is one token sequence with its KV cache.
type Sequence interface {
	// Forward appends tokens at positions Len()..Len()+len(tokens)-1 and returns the
	// logits (vocab) of the last one. The slice is valid until the next call.
	Forward(ctx context.Context, tokens []int32) ([]float32, error)
	// Hidden appends tokens like Forward and returns the final-normed hidden states of
	// every appended token, (len(tokens), hidden) row-major, for embeddings.
	Hidden(ctx context.Context, tokens []int32) ([]float32, error)
	// Len is the number of tokens in the cache.
	Len() int
	// Truncate drops cached tokens from position n on, so a shared prompt prefix can be reused.
	Truncate(n int) error
	Close() error
}

// Batcher is implemented by runners that can advance several of their
// sequences in one forward pass: every weight matrix is read once for all of
// them (a matrix-matrix product of one row per token), which on a CPU costs
// little more than one sequence's decode step. Each sequence keeps its own
// positions and KV cache.
type Batcher interface {
	// ForwardBatch appends tokens[i] to seqs[i] for every i and returns the
	// logits (vocab) of each one's last token. The slices are valid until the
	// next call on any of the sequences. On error no sequence has advanced.
	ForwardBatch(ctx context.Context, seqs []Sequence, tokens [][]int32) ([][]float32, error)
}
