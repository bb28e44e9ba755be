package gemma3

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/siglip"
)

// Gemma 3's vision tower is SigLIP (engine/model/siglip: patch embedding,
// pre-norm encoder layers with bidirectional attention and a GELU MLP,
// post_layernorm; no pooling head), followed by Gemma3MultiModalProjector:
// the grid of patches average-pooled to mm_tokens_per_image, Gemma's (1 + w)
// RMSNorm, and a matmul to the text model's width.

// visionConfig is a Gemma3Config's vision_config (SiglipVisionConfig's
// defaults fill what it leaves out) and the top-level keys that place images.
type visionConfig struct {
	siglip.Config
	UseHead    bool `json:"vision_use_head"`
	tokens     int
	imageToken int
	begin, end int
}

// parseVision reads the vision settings of a ConditionalGeneration
// config.json; nil when it has no vision_config.
func parseVision(b []byte) (*visionConfig, error) {
	var top struct {
		Vision          json.RawMessage `json:"vision_config"`
		TokensPerImage  *int            `json:"mm_tokens_per_image"`
		ImageTokenIndex *int            `json:"image_token_index"`
		ImageTokenID    *int            `json:"image_token_id"`
		Begin           *int            `json:"boi_token_index"`
		End             *int            `json:"eoi_token_index"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	if len(top.Vision) == 0 || string(top.Vision) == "null" {
		return nil, nil
	}
	v := visionConfig{Config: siglip.Config{Hidden: 768, Inter: 3072, Layers: 12, Heads: 12, Channels: 3, ImageSize: 224,
		Patch: 16, Eps: 1e-6, Act: "gelu_pytorch_tanh"}, tokens: 256, imageToken: 262144, begin: 255999, end: 256000}
	if err := json.Unmarshal(top.Vision, &v); err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	if top.TokensPerImage != nil {
		v.tokens = *top.TokensPerImage
	}
	if top.Begin != nil {
		v.begin = *top.Begin
	}
	if top.End != nil {
		v.end = *top.End
	}
	switch {
	case top.ImageTokenIndex != nil:
		v.imageToken = *top.ImageTokenIndex
	case top.ImageTokenID != nil:
		v.imageToken = *top.ImageTokenID
	}
	side := 0
	if v.Patch > 0 {
		side = v.ImageSize / v.Patch
	}
	per := int(math.Sqrt(float64(v.tokens)))
	if v.UseHead {
		return nil, fmt.Errorf("vision_config: vision_use_head is not Gemma 3's")
	}
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	switch {
	case v.Patch <= 0 || v.ImageSize <= 0 || v.ImageSize > 1<<13 || v.ImageSize%v.Patch != 0:
		return nil, fmt.Errorf("vision_config: image_size %d is not a multiple of patch_size %d", v.ImageSize, v.Patch)
	case per <= 0 || per*per != v.tokens || side%per != 0:
		return nil, fmt.Errorf("mm_tokens_per_image %d does not pool a %dx%d grid of patches", v.tokens, side, side)
	case v.imageToken < 0 || v.imageToken > math.MaxInt32 || v.begin < 0 || v.begin > math.MaxInt32 || v.end < 0 || v.end > math.MaxInt32:
		return nil, fmt.Errorf("image tokens %d, %d, %d", v.begin, v.imageToken, v.end)
	}
	return &v, nil
}

// tower is the bound vision tower and projector.
type tower struct {
	*siglip.Tower
	c      *visionConfig
	mmNorm model.Tensor // (width), Gemma's (1 + w)
	proj   model.Linear // (text hidden, width): mm_input_projection_weight transposed
}

// The executors find the tower by this assertion, so a method lost in a
// refactor would silently make the model text-only.
var _ model.Vision = (*multimodal)(nil)

// multimodal is Gemma 3's text model with its vision tower.
type multimodal struct {
	model.Definition
	*tower
}

// bindTower binds the vision tensors under prefix ("" for transformers 4.50
// and mlx-vlm, "model." for 4.52 and later).
func bindTower(c *visionConfig, textHidden int, b *model.Binder, prefix string) (*tower, error) {
	enc, err := siglip.Bind(c.Config, b, prefix+"vision_tower.vision_model.")
	if err != nil {
		return nil, err
	}
	t := &tower{Tower: enc, c: c}
	mp := prefix + "multi_modal_projector."
	if err := b.Vector(&t.mmNorm, mp+"mm_soft_emb_norm.weight", c.Hidden); err != nil {
		return nil, err
	}
	if err := b.Transposed(&t.proj, mp+"mm_input_projection_weight", c.Hidden, textHidden); err != nil {
		return nil, err
	}
	return t, nil
}

func (m *multimodal) Image() model.ImageSpec {
	c := m.c
	return model.ImageSpec{Size: c.ImageSize, Channels: c.Channels, Tokens: c.tokens, Token: int32(c.imageToken),
		Begin: int32(c.begin), End: int32(c.end)}
}

// VisionHead is post_layernorm and Gemma3MultiModalProjector.
func (m *multimodal) VisionHead(o model.VisionOps, x model.Value) model.Value {
	c := m.c
	x = m.PostNorm(o, x)
	side := c.Side()
	x = o.Pool(x, side, side/int(math.Sqrt(float64(c.tokens))))
	return o.Linear(o.RMSNorm(x, &m.mmNorm, c.Eps, 1), &m.proj)
}
