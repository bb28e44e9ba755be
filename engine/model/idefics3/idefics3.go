// Package idefics3 is Idefics3ForConditionalGeneration (SmolVLM-256M/500M/
// 2B-Instruct and Idefics3-8B) and SmolVLMForConditionalGeneration (SmolVLM2,
// images only), as transformers' modeling_idefics3.py computes it: a SigLIP vision transformer
// (Idefics3VisionTransformer) over each 512×512 (or 364×364) tile of an
// image, a connector that pixel-shuffles each tile's grid of patches by
// scale_factor and projects it to the text model's width
// (modality_projection, no bias), and a Llama text model (SmolLM2, Llama 3)
// under model.text_model.* with lm_head. The image features replace the
// embeddings of the <image> tokens, tile by tile; the text model's attention
// stays causal over them (no token_type mask, unlike Gemma 3).
//
// Checkpoints name their tensors as transformers saves them
// (model.vision_model.*, model.connector.modality_projection.proj,
// model.text_model.*, lm_head) or as mlx-vlm does (vision_model.*,
// connector.*, language_model.model.*, language_model.lm_head, the patch
// kernel (out, ky, kx, channel)), which mlx-community's conversions use.
package idefics3

import (
	"encoding/json"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/siglip"
)

func init() {
	model.Register(model.Arch{Name: "Idefics3ForConditionalGeneration", Configure: configure, Build: Build})
	// SmolVLM2's class (modeling_smolvlm.py) is Idefics3's with an
	// inputs_merger that fills the image tokens tile by tile, the same order.
	model.Register(model.Arch{Name: "SmolVLMForConditionalGeneration", Configure: configure, Build: Build})
}

// layout is where a checkpoint keeps each part.
type layout struct{ text, head, vision, proj string }

var (
	hfLayout  = layout{"model.text_model.", "lm_head", "model.vision_model.", "model.connector.modality_projection.proj"}
	mlxLayout = layout{"language_model.model.", "language_model.lm_head", "vision_model.", "connector.modality_projection.proj"}
)

// textDefaults are the LlamaConfig Idefics3Config makes when config.json has
// no text_config at all; a text_config given is read with LlamaConfig's own
// defaults.
var textDefaults = map[string]any{"rms_norm_eps": 1e-5, "tie_word_embeddings": false, "hidden_act": "silu"}

// configure parses text_config as a LlamaForCausalLM config (with the top
// level's dtype, quantization and special tokens) and takes it as the
// model's, and reads the vision settings into Family.
func configure(c *model.Config, b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	text := map[string]any{}
	if _, ok := top["text_config"]; !ok {
		for k, v := range textDefaults {
			text[k] = v
		}
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
	for _, k := range []string{"torch_dtype", "dtype", "quantization", "quantization_config", "eos_token_id", "bos_token_id", "tie_word_embeddings"} {
		if v, ok := top[k]; ok {
			if _, set := text[k]; !set || k == "tie_word_embeddings" {
				text[k] = v
			}
		}
	}
	if mt, _ := text["model_type"].(string); mt != "" && mt != "llama" {
		return fmt.Errorf("text_config: model_type %q is not supported (llama is)", mt)
	}
	text["architectures"] = []string{"LlamaForCausalLM"}
	js, err := json.Marshal(text)
	if err != nil {
		return err
	}
	tc, err := model.ParseConfig(js)
	if err != nil {
		return fmt.Errorf("text_config: %w", err)
	}
	v, err := parseVision(b, tc.VocabSize)
	if err != nil {
		return err
	}
	archs := c.Architectures
	*c = *tc
	c.Architectures = archs
	c.Raw = b
	c.Family = v
	return nil
}

// Build binds the text model, the vision tower and the connector.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	v, ok := c.Family.(*visionConfig)
	if !ok {
		return nil, fmt.Errorf("idefics3: config was not configured by this family")
	}
	var at layout
	for _, l := range []layout{hfLayout, mlxLayout} {
		if b.Has(l.text + "embed_tokens.weight") {
			at = l
		}
	}
	if at.text == "" {
		return nil, fmt.Errorf("%w: no %sembed_tokens or %sembed_tokens", model.ErrWeights, hfLayout.text, mlxLayout.text)
	}
	text, err := llama.BuildAt(c, b, at.text, at.head)
	if err != nil {
		return nil, err
	}
	t, err := bindTower(v, c.HiddenSize, b, at)
	if err != nil {
		return nil, fmt.Errorf("vision tower: %w", err)
	}
	return &multimodal{Definition: text, tower: t}, nil
}

// visionConfig is Idefics3Config's vision_config (Idefics3VisionConfig's
// defaults fill what it leaves out) with the top-level scale_factor and
// image_token_id.
type visionConfig struct {
	siglip.Config
	scale      int
	imageToken int
}

func parseVision(b []byte, vocab int) (*visionConfig, error) {
	var top struct {
		Vision     json.RawMessage `json:"vision_config"`
		Scale      *int            `json:"scale_factor"`
		ImageToken *int            `json:"image_token_id"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	v := visionConfig{Config: siglip.Config{Hidden: 1152, Inter: 3072, Layers: 12, Heads: 16, Channels: 3, ImageSize: 224,
		Patch: 32, Eps: 1e-6, Act: "gelu_pytorch_tanh"}, scale: 2, imageToken: 128257}
	if len(top.Vision) > 0 && string(top.Vision) != "null" {
		if err := json.Unmarshal(top.Vision, &v); err != nil {
			return nil, fmt.Errorf("vision_config: %w", err)
		}
	}
	if top.Scale != nil {
		v.scale = *top.Scale
	}
	if top.ImageToken != nil {
		v.imageToken = *top.ImageToken
	}
	side := 0
	if v.Patch > 0 {
		side = v.ImageSize / v.Patch
	}
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	switch {
	case v.Patch <= 0 || v.ImageSize > 1<<13 || v.ImageSize < v.Patch:
		// The convolution is "valid": SmolVLM-Instruct's 384 pixels make 27
		// patches of 14, the last 6 pixels unread.
		return nil, fmt.Errorf("vision_config: image_size %d, patch_size %d", v.ImageSize, v.Patch)
	case v.scale <= 0 || side%v.scale != 0:
		return nil, fmt.Errorf("scale_factor %d does not divide the %dx%d grid of patches", v.scale, side, side)
	case v.imageToken < 0 || v.imageToken >= vocab:
		return nil, fmt.Errorf("image_token_id %d outside the vocabulary of %d", v.imageToken, vocab)
	}
	return &v, nil
}

// tokens is the number of image features per tile: the grid of patches
// after the pixel shuffle (Idefics3Processor's image_seq_len).
func (v *visionConfig) tokens() int {
	per := v.ImageSize / v.Patch / v.scale
	return per * per
}

// The executors find the tower by this assertion, so a method lost in a
// refactor would silently make the model text-only.
var _ model.Vision = (*multimodal)(nil)

// multimodal is the text model with its vision tower and connector.
type multimodal struct {
	model.Definition
	*tower
}

func (m *multimodal) Image() model.ImageSpec {
	c := m.c
	return model.ImageSpec{Size: c.ImageSize, Channels: c.Channels, Tokens: c.tokens(), Token: int32(c.imageToken),
		Begin: -1, End: -1, Causal: true}
}
