package modeltest

import (
	"fmt"
	"math"
)

// nomicConfig writes config.json as nomic-embed-text-v1.5 has it
// (NomicBertConfig over GPT2Config: n_embd, n_head, n_layer, n_inner,
// rotary, SwiGLU, no biases), in the test model's sizes.
func (s Spec) nomicConfig() map[string]any {
	torch := map[string]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[string(s.DType)]
	c := map[string]any{
		"architectures":       []string{"NomicBertModel"},
		"model_type":          "nomic_bert",
		"activation_function": "swiglu",
		"attn_pdrop":          0.0,
		"auto_map": map[string]string{
			"AutoConfig": "nomic-ai/nomic-bert-2048--configuration_hf_nomic_bert.NomicBertConfig",
			"AutoModel":  "nomic-ai/nomic-bert-2048--modeling_hf_nomic_bert.NomicBertModel",
		},
		"bos_token_id":             nil,
		"causal":                   false,
		"dense_seq_output":         true,
		"embd_pdrop":               0.0,
		"eos_token_id":             nil,
		"fused_bias_fc":            true,
		"fused_dropout_add_ln":     true,
		"initializer_range":        0.02,
		"layer_norm_epsilon":       1e-12,
		"max_trained_positions":    s.MaxPos,
		"mlp_fc1_bias":             false,
		"mlp_fc2_bias":             false,
		"n_embd":                   s.Hidden,
		"n_head":                   s.Heads,
		"n_inner":                  s.Intermediate,
		"n_layer":                  s.Layers,
		"n_positions":              4 * s.MaxPos,
		"pad_vocab_size_multiple":  64,
		"parallel_block":           false,
		"parallel_block_tied_norm": false,
		"prenorm":                  false,
		"qkv_proj_bias":            false,
		"resid_pdrop":              0.0,
		"rotary_emb_base":          1000,
		"rotary_emb_fraction":      1.0,
		"rotary_emb_interleaved":   false,
		"rotary_emb_scale_base":    nil,
		"rotary_scaling_factor":    nil,
		"torch_dtype":              torch,
		"type_vocab_size":          2,
		"use_flash_attn":           true,
		"use_rms_norm":             false,
		"use_xentropy":             true,
		"vocab_size":               s.Vocab,
	}
	if s.QuantBits > 0 {
		q := map[string]any{"group_size": s.GroupSize, "bits": s.QuantBits}
		c["quantization"] = q
		c["quantization_config"] = q
	}
	return c
}

// nomicInter is the SwiGLU width NomicBERT stores: n_inner rounded up to a
// multiple of 256.
func (s Spec) nomicInter() int { return (s.Intermediate + 255) / 256 * 256 }

// nomicTensors draws NomicBertModel's weights under its checkpoint's names.
func (g *gen) nomicTensors() error {
	s := g.s
	h, inter := s.Hidden, s.nomicInter()
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	ln := func(path string) []error {
		return []error{g.norm(path+".weight", h), g.float(path+".bias", g.normal(h, 0, 0.1), h)}
	}
	steps := []error{
		g.float("embeddings.word_embeddings.weight", g.normal(s.Vocab*h, 0, 1), s.Vocab, h),
		g.float("embeddings.token_type_embeddings.weight", g.normal(2*h, 0, 0.5), 2, h),
	}
	steps = append(steps, ln("emb_ln")...)
	for i := range s.Layers {
		lp := fmt.Sprintf("encoder.layers.%d.", i)
		steps = append(steps,
			g.linear(lp+"attn.Wqkv", 3*h, h, inv(h), false),
			g.linear(lp+"attn.out_proj", h, h, inv(h), false),
			g.linear(lp+"mlp.fc11", inter, h, inv(h), false),
			g.linear(lp+"mlp.fc12", inter, h, inv(h), false),
			g.linear(lp+"mlp.fc2", h, inter, inv(inter), false))
		steps = append(steps, ln(lp+"norm1")...)
		steps = append(steps, ln(lp+"norm2")...)
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}
