// Package hfref is an independent float64 forward pass of the model families
// added in issue #18 (Gemma2ForCausalLM, Gemma3ForCausalLM and the text part of
// Gemma3ForConditionalGeneration, Phi3ForCausalLM, GraniteForCausalLM,
// Olmo2ForCausalLM, SmolLM3ForCausalLM) and the mixtures of experts of issue
// #21 (Qwen3MoeForCausalLM, MixtralForCausalLM, GptOssForCausalLM with its
// attention sinks, YaRN and clamped experts), written from Hugging Face
// transformers' modeling_<family>.py and modeling_rope_utils.py and from
// nothing in this project, so that it can judge the executors: a family is
// right when every executor's logits match these within 1e-4 of their RMS.
//
// The encoders of issue #23 (bert.go, nomicbert.go, modernbert.go) are here
// too: BERT, XLM-R and ModernBERT from transformers, NomicBertModel from
// nomic-ai's modeling_hf_nomic_bert.py, which its checkpoints' auto_map names;
// Matryoshka is nomic-embed-text-v1.5's post-processing of a vector cut to
// fewer dimensions (matryoshka.go).
//
// For Gemma3ForConditionalGeneration it also has the vision path (issue
// #28, vision.go): the SigLIP tower, the multi-modal projector's pooling to
// mm_tokens_per_image tokens, the features spliced over the image tokens,
// and the attention mask under which one image's tokens see each other both
// ways (LogitsWithImages, ImageFeatures). For Idefics3ForConditionalGeneration
// (SmolVLM, idefics3.go): its SigLIP tower per tile with the bucketed
// position ids, the connector's pixel shuffle and projection, and the Llama
// text model, causal over the image tokens (Idefics3LogitsWithImages,
// Idefics3TileFeatures). For Qwen2_5_VLForConditionalGeneration
// (qwen2vl.go), the text side: get_rope_index's three-dimensional positions,
// the multimodal rotary embedding and the Qwen2 decoder over image features
// given to it (Qwen2VLLogits, Qwen2VLRopeIndex).
//
// It is deliberately plain: no cache, no batching, no fusion, every position
// recomputed, every step in the order transformers writes it. The input is a
// config.json (as a map, the way transformers reads it, with the family's
// defaults for absent keys) and the tensors by their Hugging Face names; the
// output is the logits of every position. Load reads a model directory in the
// real layout, dequantizing MLX-quantized layers, so a test compares an
// executor with the oracle on the same weights.
//
// What transformers does in the model's dtype and this package does in
// float64 differs only by rounding, with one exception kept on purpose: the
// Gemma embedding scale sqrt(hidden_size) is rounded to the model's dtype first
// (transformers casts it, and bfloat16 turns sqrt(2560)=50.6 into 50.5).
//
// Who may import me: tests only.
package hfref
