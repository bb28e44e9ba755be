// Package model describes a decoder-only language model independently of how it
// is executed: its configuration (config.json, generation_config.json), its
// weights as stored (memory-mapped safetensors, possibly MLX-quantized), and the
// Runner interface that every executor (engine/cpu, engine/graph) implements.
//
// Architectures register themselves (Register, in the init of one package per
// family under engine/model/...); engine/model/all imports them all. Open reads
// a model directory, maps its weights and binds them into Weights, checking
// every tensor against the config, so executors can trust the shapes they get.
//
// The conventions an executor must follow, all of them exercised by
// engine/enginetest against engine/model/reference:
//   - RMSNorm: x / sqrt(mean(x²) + eps) * weight.
//   - Attention: q, k, v = x·Wᵀ (+ bias); Qwen3 then RMS-normalises each head of q
//     and k with QNorm/KNorm; RoPE with RopeFreqs in HF's rotate_half pairing
//     (i, i+headDim/2); grouped-query attention (query head h reads key/value head
//     h/(heads/kvHeads)); scores scaled by 1/sqrt(headDim); causal mask, limited
//     to the last SlidingWindow keys when it is set.
//   - MLP: down(silu(gate(x)) * up(x)); residual connections around both blocks.
//   - Any Linear may carry Bias; MLX-quantized layers (Bits > 0) decode with
//     DequantizeRow, including the embeddings and lm_head.
//
// Who may import me: engine/... and app, which wires an executor in. I import
// no HTTP, storage or executor package.
package model
