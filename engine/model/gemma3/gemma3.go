// Package gemma3 is Gemma3ForCausalLM (Google Gemma 3 text models, 270M and
// 1B) and the text model of Gemma3ForConditionalGeneration (4B, 12B, 27B: what
// most Gemma 3 downloads are), as transformers' modeling_gemma3.py has them:
// Gemma 2's decoder (engine/model/gemma2) without its soft-capping defaults,
// plus per-head (1 + w) RMSNorms on q and k before RoPE, five sliding-window
// layers for each global one (layer_types, or sliding_window_pattern 6), and
// two RoPEs: sliding layers use rope_local_base_freq unscaled, global layers
// rope_theta with rope_scaling (linear).
//
// A ConditionalGeneration checkpoint keeps the text model's settings under
// text_config (sparse: Gemma3TextConfig's defaults fill the rest) and its
// tensors under language_model.model.* (mlx-community, transformers 4.50) or
// model.language_model.* (transformers 4.52 and later); its vision tower
// (vision.go) is bound when the checkpoint has one.
package gemma3

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/gemma2"
)

func init() {
	model.Register(model.Arch{Name: "Gemma3ForCausalLM", Configure: configure, Build: Build})
	model.Register(model.Arch{Name: "Gemma3ForConditionalGeneration", Configure: configureMultimodal, Build: Build})
}

type raw struct {
	gemma2.Raw
	RopeLocalBaseFreq    *float64 `json:"rope_local_base_freq"`
	SlidingWindowPattern *int     `json:"sliding_window_pattern"`
}

func configure(c *model.Config, b []byte) error {
	var r raw
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	pattern := 6
	if r.SlidingWindowPattern != nil {
		pattern = *r.SlidingWindowPattern
	}
	if pattern <= 0 {
		return fmt.Errorf("sliding_window_pattern is %d", pattern)
	}
	s, err := gemma2.Common(c, &r.Raw, func(l int) bool { return (l+1)%pattern != 0 })
	if err != nil {
		return err
	}
	if r.AttnSoftcap != nil {
		s.AttnSoftcap = *r.AttnSoftcap
	}
	if r.FinalSoftcap != nil {
		s.FinalSoftcap = *r.FinalSoftcap
	}
	s.QKNorm = true
	s.GlobalFreqs = model.RopeFreqs(c)
	local := 10000.0
	if r.RopeLocalBaseFreq != nil {
		local = *r.RopeLocalBaseFreq
	}
	if !(local > 1) {
		return fmt.Errorf("rope_local_base_freq is %g", local)
	}
	s.LocalFreqs = make([]float64, c.HeadDim/2)
	for i := range s.LocalFreqs {
		s.LocalFreqs[i] = 1 / math.Pow(local, float64(2*i)/float64(c.HeadDim))
	}
	c.Family = s
	return nil
}

// textDefaults are Gemma3TextConfig's defaults for the keys a sparse
// text_config leaves out.
var textDefaults = map[string]any{
	"vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
	"num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
	"hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 131072, "rms_norm_eps": 1e-6,
	"rope_theta": 1e6, "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": 256,
	"sliding_window": 4096, "sliding_window_pattern": 6, "tie_word_embeddings": true,
}

// configureMultimodal parses text_config as a Gemma3ForCausalLM config (with
// the top level's dtype, quantization and special tokens) and takes it as the
// model's config.
func configureMultimodal(c *model.Config, b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	text := map[string]any{}
	for k, v := range textDefaults {
		text[k] = v
	}
	if tc, ok := top["text_config"]; ok {
		var m map[string]any
		if err := json.Unmarshal(tc, &m); err != nil {
			return fmt.Errorf("text_config: %w", err)
		}
		for k, v := range m {
			text[k] = v
		}
	}
	for _, k := range []string{"torch_dtype", "dtype", "quantization", "quantization_config", "eos_token_id", "bos_token_id"} {
		if v, ok := top[k]; ok {
			if _, set := text[k]; !set {
				text[k] = v
			}
		}
	}
	text["architectures"] = []string{"Gemma3ForCausalLM"}
	js, err := json.Marshal(text)
	if err != nil {
		return err
	}
	tc, err := model.ParseConfig(js)
	if err != nil {
		return fmt.Errorf("text_config: %w", err)
	}
	archs := c.Architectures
	*c = *tc
	c.Architectures = archs
	c.Raw = b                                   // the whole config.json, vision_config included, for Build
	c.Family.(*gemma2.Settings).TextPrefix = "" // chosen by Build from the tensors present
	return nil
}

// Build binds a Gemma 3 text model.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	s, ok := c.Family.(*gemma2.Settings)
	if !ok {
		return nil, fmt.Errorf("gemma3: config was not configured by this family")
	}
	if s.TextPrefix == "" {
		ss := *s
		ss.TextPrefix = "language_model.model."
		if b.Has("model.language_model.embed_tokens.weight") || b.Has("model.language_model.embed_tokens.scales") {
			ss.TextPrefix = "model.language_model."
		}
		s = &ss
	}
	def, err := gemma2.BuildWith(c, b, s)
	if err != nil {
		return nil, err
	}
	return withVision(c, b, def, s.TextPrefix)
}

// withVision adds the vision tower of a ConditionalGeneration checkpoint
// that has one (its tensors sit beside the text model's); text-only
// conversions of the same architecture stay text models.
func withVision(c *model.Config, b *model.Binder, def model.Definition, textPrefix string) (model.Definition, error) {
	if len(c.Architectures) == 0 || c.Architectures[0] != "Gemma3ForConditionalGeneration" {
		return def, nil
	}
	v, err := parseVision(c.Raw)
	if err != nil || v == nil {
		return def, err
	}
	prefix := ""
	if textPrefix == "model.language_model." {
		prefix = "model."
	}
	if !b.Has(prefix + "vision_tower.vision_model.embeddings.patch_embedding.weight") {
		return def, nil
	}
	if v.begin >= c.VocabSize || v.end >= c.VocabSize {
		return nil, fmt.Errorf("vision tower: boi/eoi tokens %d, %d outside the vocabulary of %d", v.begin, v.end, c.VocabSize)
	}
	t, err := bindTower(v, c.HiddenSize, b, prefix)
	if err != nil {
		return nil, fmt.Errorf("vision tower: %w", err)
	}
	return &multimodal{Definition: def, tower: t}, nil
}
