// Package reference is the oracle executor: a plainly written float64 forward
// pass over the model's stored weights, slow but easy to check line by line
// against the Hugging Face modelling code it follows (LlamaForCausalLM and its
// Mistral and Qwen relatives).
//
// It keeps nothing precomputed: every matrix row is decoded (and MLX weights
// dequantized) from the mapped file when used, in float64 from there on, and
// tokens are processed one at a time, so prefill and decode share one path. The
// executors in engine/cpu and engine/graph are tested against it through
// engine/enginetest; it is itself tested against hand-computed values and
// against the real stories260K model telling its story.
//
// Who may import me: tests and tools. Nothing on a serving path should.
package reference
