// Package model describes a decoder-only language model independently of how it
// is executed: its configuration (config.json, generation_config.json), its
// weights as stored (memory-mapped safetensors, possibly MLX-quantized), the
// operations a forward pass is written against (Ops), and the Runner interface
// every executor implements.
//
// # One definition per architecture
//
// A family (engine/model/<family>/) is one package holding everything about
// the architecture, as mlx-lm's mlx_lm/models/<family>.py and Ollama's
// model/models/<family> do: how its config.json is read, the names of its
// tensors, and its forward pass, embed → layers → final norm → logits,
// written once against Ops. Executors implement Ops, never a family:
// engine/cpu over float32 buffers with its fused kernels, engine/model/reference
// in float64 as the oracle. So a family runs on every executor and is checked
// on each by the shared conformance suite (engine/enginetest) with no
// per-executor code.
//
// # Adding a family
//
//  1. Create engine/model/<family>/<family>.go. In init, Register an Arch whose
//     Name is config.json's architectures[0] (register the same Build under
//     each name the checkpoints use, e.g. a ForConditionalGeneration one).
//  2. Configure (optional) reads the family's own config.json keys from raw
//     and rejects settings it does not implement, with a clear error. The
//     shared fields (sizes, rope_theta, rope_scaling, eps, quantization, ...)
//     are already parsed into Config.
//  3. Build binds the tensors by their Hugging Face names through the Binder:
//     Linear for every matrix (quantized or not, with or without bias: the
//     Binder handles MLX scales/biases), Vector for norm weights, Tie for tied
//     embeddings. Bind the embedding table first (Model.DType reads it). Keep
//     the tensors in a struct of the family: the Binder records their
//     addresses, which executors use as handles. Checkpoints that prefix names
//     (language_model.model.layers...) are one string away: check Binder.Has.
//  4. Build returns a Definition: Layers, Embed, Layer, Norm, Logits. Write
//     them as transformers' modeling_<family>.py computes, one Ops call per
//     step: Linear/Linear2/Linear3 (use Linear3 for q, k, v and Linear2 for
//     gate, up: the CPU runs each group as one parallel step), RMSNorm (offset
//     1 for (1 + w) norms; a weight of head_dim normalises each head, one as
//     long as the row normalises all of it), RoPE with a Rope per kind of
//     layer (Freqs from RopeFreqs or the family's own scaling, Dims < HeadDim
//     for partial rotary, LongFreqs/LongFrom/Scale for longrope; a layer
//     without RoPE simply does not call it), Attention with an Attention per
//     kind of layer (Scale, Window for sliding layers, Softcap), GLU, Add
//     (residuals: its first operand may be overwritten), Scale (embedding,
//     residual and logit multipliers), Softcap, MoE for a sparse mixture of
//     experts (bind it with Binder.MoE, which reads the experts per expert or
//     stacked as mlx-lm's switch_mlp; engine/model/qwen3moe is the example;
//     experts with biases, GPT-OSS's, bind with StackedExperts or
//     FusedExperts, and MoE.Clamp selects its clamped SwiGLU), and
//     Attention.Sinks for a learned per-head sink logit (engine/model/gptoss).
//     Precompute the descriptors in Build: executors cache tables per *Rope.
//     What Llama-layout blocks share is written once in decoder.go: Binder.Outer
//     (embed_tokens, norm, lm_head or tied), Binder.BindSelfAttention and
//     SelfAttention (the pre-norm attention sublayer, with optional per-head
//     q/k norms and RoPE), and GatedMLP (SwiGLU, GeGLU); a family points them
//     at its tensors and keeps only its quirks.
//  5. Add one line to engine/model/all, a tiny model of the family to
//     engine/model/modeltest, and check its logits against an independent
//     float64 implementation written from the transformers source
//     (engine/model/hfref: add the family there and to its TestFamilies).
//
// # Encoders
//
// Encoder families (engine/model/bert, engine/model/nomicbert,
// engine/model/modernbert) return an EncoderDefinition and use
// EncoderOps (encoder.go) on top of Ops: Lookup for position and token type
// embeddings, Act for GELU and tanh, and an Attention with Bidirectional set
// (and Radius for ModernBERT's local layers, which see a window around each
// token).
// Their input runs in one pass through model.Encoder (Encode for the hidden
// states, Classify for a cross-encoder's head) instead of Forward. engine/cpu
// and the reference executor implement them; engine/graph refuses encoders
// at load. hfref has their float64 oracle (bert.go).
//
// # Vision
//
// A vision-language Definition (engine/model/gemma3's ConditionalGeneration)
// also implements Vision (vision.go): its tower turns an image's pixel values
// into embeddings of the text model's width, written against VisionOps
// (EncoderOps plus Input, Table, SelfAttention and Pool). Executors that run
// towers implement Imager on their sequences: ImageEmbeds, then
// ForwardImages, which splices the embeddings over the image's placeholder
// tokens and lets an image's tokens see each other both ways. engine/cpu and
// the reference executor do; engine/graph's sequences do not, and images
// given to it are refused. hfref has the oracle (vision.go).
//
// engine/model/idefics3 (SmolVLM) is the second: its processor cuts an image
// into tiles, each of which the tower turns into ImageSpec.Tokens embeddings
// (VisionOps.Shuffle is its connector's pixel shuffle), one ImageSpan per
// tile; its ImageSpec is Causal, so the text model attends over image tokens
// as over text.
// Both towers are SigLIP's, written once in engine/model/siglip: a family
// binds its Tower under its own prefix and embeds it, which gives
// VisionLayers, VisionEmbed and VisionLayer, and keeps its config parsing,
// Image and a VisionHead from Tower.PostNorm on.
//
// engine/model/qwenvit is Qwen2.5-VL's tower, which reads each image at its
// own size: its ImageSpec has Merge set, an image comes as a grid (t, h, w)
// of patches through Imager.ImageGridEmbeds (VisionOps.Grid tells the tower
// which), and gives t·h·w/Merge² embeddings; VisionOps.Rotate (2-D rotary
// angles per row), BlockAttention (windows), Permute and Group are its
// operations. hfref has its oracle (qwenvit.go).
//
// engine/model/qwen2vl (Qwen2.5-VL, Qwen2-VL) positions tokens with M-RoPE
// (mrope.go): its Definition implements MRoPE, its Rope has Sections, and an
// image's tokens take three-dimensional positions from its ImageSpan.Grid,
// after which the sequence's positions run behind its cache index. Executors
// keep that rope delta per sequence, through decode, batching, chunked
// prefill and Truncate.
//
// The conventions every executor follows are the definitions in ops.go; the
// reference executor implements them as literally as possible.
//
// Who may import me: engine/... and app, which wires an executor in. I import
// no HTTP, storage or executor package.
package model
