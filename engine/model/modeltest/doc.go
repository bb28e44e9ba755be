// Package modeltest writes tiny random models in the real on-disk formats
// (config.json, generation_config.json, safetensors, possibly sharded and
// MLX-quantized, tokenizer.json and tokenizer_config.json), so tests across the
// engine and the API run real loading code on real files without downloads.
//
// A Spec chooses the architecture, dimensions, dtype, quantization, tied
// embeddings and sharding; the same Spec and Seed always give the same bytes.
// The tokenizer is stories260K's (SentencePiece-style BPE, 512 tokens, <s>=1,
// </s>=2) with a ChatML chat_template added, hence the default vocabulary of 512.
//
// Weights are drawn so that activations stay of order one through the layers:
// q and k projections give attention scores of about unit variance (so RoPE,
// masking and grouped-query mistakes change the output visibly, which a
// near-uniform attention would hide), norms are 1 ± 0.1, and logits spread over a
// few units.
//
// Who may import me: tests only.
package modeltest
