package modeltest

import (
	"fmt"
	"math"
)

// ModernBertLocalAttention is the test models' local_attention: a window
// of 2 tokens on either side, so that the local layers of a short input
// see less than all of it (ModernBERT-base's is 128).
const ModernBertLocalAttention = 4

// modernBertConfig writes config.json as answerdotai/ModernBERT-base has it
// (transformers 4.48's ModernBertConfig keys), in the test model's sizes:
// layer 0 global, layer 1 local, ...
func (s Spec) modernBertConfig() map[string]any {
	torch := map[string]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[string(s.DType)]
	c := map[string]any{
		"architectures":              []string{archNames[s.Arch].arch},
		"attention_bias":             false,
		"attention_dropout":          0.0,
		"bos_token_id":               2,
		"classifier_activation":      "gelu",
		"classifier_bias":            false,
		"classifier_dropout":         0.0,
		"classifier_pooling":         "mean",
		"cls_token_id":               2,
		"decoder_bias":               true,
		"deterministic_flash_attn":   false,
		"embedding_dropout":          0.0,
		"eos_token_id":               3,
		"global_attn_every_n_layers": 3,
		"global_rope_theta":          160000.0,
		"gradient_checkpointing":     false,
		"hidden_activation":          "gelu",
		"hidden_size":                s.Hidden,
		"initializer_cutoff_factor":  2.0,
		"initializer_range":          0.02,
		"intermediate_size":          s.Intermediate,
		"layer_norm_eps":             1e-05,
		"local_attention":            ModernBertLocalAttention,
		"local_rope_theta":           10000.0,
		"max_position_embeddings":    s.MaxPos,
		"mlp_bias":                   false,
		"mlp_dropout":                0.0,
		"model_type":                 "modernbert",
		"norm_bias":                  false,
		"norm_eps":                   1e-05,
		"num_attention_heads":        s.Heads,
		"num_hidden_layers":          s.Layers,
		"pad_token_id":               0,
		"position_embedding_type":    "absolute",
		"sep_token_id":               3,
		"tie_word_embeddings":        true,
		"torch_dtype":                torch,
		"transformers_version":       "4.48.0",
		"vocab_size":                 s.Vocab,
	}
	if s.Arch == "modernbertcls" {
		// A one-label cross-encoder head reading the mean of the states.
		c["id2label"] = map[string]string{"0": "LABEL_0"}
		c["label2id"] = map[string]int{"LABEL_0": 0}
	}
	if s.QuantBits > 0 {
		q := map[string]any{"group_size": s.GroupSize, "bits": s.QuantBits}
		c["quantization"] = q
		c["quantization_config"] = q
	}
	return c
}

// modernBertTensors draws ModernBertModel's weights under its names
// ("model." and the MLM or classification head in a ModernBertForMaskedLM
// or ModernBertForSequenceClassification checkpoint).
func (g *gen) modernBertTensors() error {
	s := g.s
	h, inter := s.Hidden, s.Intermediate
	p := ""
	if s.Arch != "modernbert" {
		p = "model."
	}
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	steps := []error{
		g.float(p+"embeddings.tok_embeddings.weight", g.normal(s.Vocab*h, 0, 1), s.Vocab, h),
		g.norm(p+"embeddings.norm.weight", h),
		g.norm(p+"final_norm.weight", h),
	}
	for i := range s.Layers {
		lp := fmt.Sprintf("%slayers.%d.", p, i)
		if i > 0 {
			steps = append(steps, g.norm(lp+"attn_norm.weight", h))
		}
		steps = append(steps,
			g.linear(lp+"attn.Wqkv", 3*h, h, inv(h), false),
			g.linear(lp+"attn.Wo", h, h, inv(h), false),
			g.norm(lp+"mlp_norm.weight", h),
			g.linear(lp+"mlp.Wi", 2*inter, h, inv(h), false),
			g.linear(lp+"mlp.Wo", h, inter, inv(inter), false))
	}
	switch s.Arch {
	case "modernbertmlm":
		steps = append(steps,
			g.linear("head.dense", h, h, inv(h), false),
			g.norm("head.norm.weight", h),
			g.float("decoder.bias", g.normal(s.Vocab, 0, 0.1), s.Vocab))
	case "modernbertcls":
		steps = append(steps,
			g.linear("head.dense", h, h, inv(h), false),
			g.norm("head.norm.weight", h),
			g.linear("classifier", 1, h, inv(h), true))
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}
