package gemma3

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Gemma 3's vision tower is SigLIP (modeling_siglip.py: patch embedding,
// pre-norm encoder layers with bidirectional attention and a GELU MLP,
// post_layernorm; no pooling head), followed by Gemma3MultiModalProjector:
// the grid of patches average-pooled to mm_tokens_per_image, Gemma's (1 + w)
// RMSNorm, and a matmul to the text model's width.

// visionConfig is a Gemma3Config's vision_config (SiglipVisionConfig's
// defaults fill what it leaves out) and the top-level keys that place images.
type visionConfig struct {
	Hidden     int     `json:"hidden_size"`
	Inter      int     `json:"intermediate_size"`
	Layers     int     `json:"num_hidden_layers"`
	Heads      int     `json:"num_attention_heads"`
	Channels   int     `json:"num_channels"`
	ImageSize  int     `json:"image_size"`
	Patch      int     `json:"patch_size"`
	Eps        float64 `json:"layer_norm_eps"`
	Act        string  `json:"hidden_act"`
	UseHead    bool    `json:"vision_use_head"`
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
	v := visionConfig{Hidden: 768, Inter: 3072, Layers: 12, Heads: 12, Channels: 3, ImageSize: 224, Patch: 16,
		Eps: 1e-6, Act: "gelu_pytorch_tanh", tokens: 256, imageToken: 262144, begin: 255999, end: 256000}
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
	switch {
	case v.UseHead:
		return nil, fmt.Errorf("vision_config: vision_use_head is not Gemma 3's")
	case v.Act != "gelu_pytorch_tanh" && v.Act != "gelu":
		return nil, fmt.Errorf("vision_config: hidden_act %q is not supported", v.Act)
	case v.Hidden <= 0 || v.Inter <= 0 || v.Layers <= 0 || v.Layers > 1<<10 || v.Channels <= 0 || v.Channels > 4:
		return nil, fmt.Errorf("vision_config: sizes %d/%d, %d layers, %d channels", v.Hidden, v.Inter, v.Layers, v.Channels)
	case v.Heads <= 0 || v.Hidden%v.Heads != 0:
		return nil, fmt.Errorf("vision_config: hidden_size %d over %d heads", v.Hidden, v.Heads)
	case v.Patch <= 0 || v.ImageSize <= 0 || v.ImageSize > 1<<13 || v.ImageSize%v.Patch != 0:
		return nil, fmt.Errorf("vision_config: image_size %d is not a multiple of patch_size %d", v.ImageSize, v.Patch)
	case per <= 0 || per*per != v.tokens || side%per != 0:
		return nil, fmt.Errorf("mm_tokens_per_image %d does not pool a %dx%d grid of patches", v.tokens, side, side)
	case v.imageToken < 0 || v.imageToken > math.MaxInt32 || v.begin < 0 || v.begin > math.MaxInt32 || v.end < 0 || v.end > math.MaxInt32:
		return nil, fmt.Errorf("image tokens %d, %d, %d", v.begin, v.imageToken, v.end)
	}
	return &v, nil
}

type visionLayer struct {
	norm1w, norm1b, norm2w, norm2b model.Tensor // (width)
	q, k, v, o                     model.Linear // (width, width) with biases
	fc1, fc2                       model.Linear // (inter, width), (width, inter) with biases
}

// tower is the bound vision tower and projector.
type tower struct {
	c        *visionConfig
	textSize int
	patch    model.Linear // the convolution as (width, channels·patch·patch), with its bias
	hwc      bool         // the kernel is stored (out, ky, kx, channel), as MLX convolutions are
	pos      model.Linear // (patches, width)
	layers   []visionLayer
	postW    model.Tensor // (width)
	postB    model.Tensor
	mmNorm   model.Tensor // (width), Gemma's (1 + w)
	proj     model.Linear // (text hidden, width): mm_input_projection_weight transposed
	attn     model.Attention
	act      model.Activation
}

// multimodal is Gemma 3's text model with its vision tower.
type multimodal struct {
	model.Definition
	t *tower
}

// bindTower binds the vision tensors under prefix ("" for transformers 4.50
// and mlx-vlm, "model." for 4.52 and later).
func bindTower(c *visionConfig, textHidden int, b *model.Binder, prefix string) (*tower, error) {
	t := &tower{c: c, textSize: textHidden, layers: make([]visionLayer, c.Layers), act: model.GELUTanh}
	if c.Act == "gelu" {
		t.act = model.GELU
	}
	w, side := c.Hidden, c.ImageSize/c.Patch
	hd := w / c.Heads
	t.attn = model.Attention{Heads: c.Heads, KVHeads: c.Heads, HeadDim: hd, Scale: 1 / math.Sqrt(float64(hd))}
	p := prefix + "vision_tower.vision_model."
	var err error
	if t.hwc, err = b.Conv(&t.patch, p+"embeddings.patch_embedding", w, c.Channels, c.Patch); err != nil {
		return nil, err
	}
	if err := b.Linear(&t.pos, p+"embeddings.position_embedding", side*side, w, false); err != nil {
		return nil, err
	}
	for l := range t.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		L, lp := &t.layers[l], fmt.Sprintf("%sencoder.layers.%d.", p, l)
		for _, x := range []struct {
			dst     *model.Linear
			name    string
			out, in int
		}{
			{&L.q, "self_attn.q_proj", w, w}, {&L.k, "self_attn.k_proj", w, w}, {&L.v, "self_attn.v_proj", w, w},
			{&L.o, "self_attn.out_proj", w, w}, {&L.fc1, "mlp.fc1", c.Inter, w}, {&L.fc2, "mlp.fc2", w, c.Inter},
		} {
			if err := b.Linear(x.dst, lp+x.name, x.out, x.in, true); err != nil {
				return nil, err
			}
		}
		for _, x := range []struct {
			dst  *model.Tensor
			name string
		}{{&L.norm1w, "layer_norm1.weight"}, {&L.norm1b, "layer_norm1.bias"}, {&L.norm2w, "layer_norm2.weight"}, {&L.norm2b, "layer_norm2.bias"}} {
			if err := b.Vector(x.dst, lp+x.name, w); err != nil {
				return nil, err
			}
		}
	}
	if err := b.Vector(&t.postW, p+"post_layernorm.weight", w); err != nil {
		return nil, err
	}
	if err := b.Vector(&t.postB, p+"post_layernorm.bias", w); err != nil {
		return nil, err
	}
	mp := prefix + "multi_modal_projector."
	if err := b.Vector(&t.mmNorm, mp+"mm_soft_emb_norm.weight", w); err != nil {
		return nil, err
	}
	if err := b.Transposed(&t.proj, mp+"mm_input_projection_weight", w, textHidden); err != nil {
		return nil, err
	}
	return t, nil
}

func (m *multimodal) Image() model.ImageSpec {
	c := m.t.c
	return model.ImageSpec{Size: c.ImageSize, Channels: c.Channels, Tokens: c.tokens, Token: int32(c.imageToken),
		Begin: int32(c.begin), End: int32(c.end)}
}

func (m *multimodal) VisionLayers() int { return len(m.t.layers) }

// VisionEmbed is SiglipVisionEmbeddings: the convolution with kernel and
// stride patch_size is one linear layer over each patch's pixel values,
// taken in the kernel's order; patches are numbered row by row.
func (m *multimodal) VisionEmbed(o model.VisionOps, pixels []float32) model.Value {
	c := m.t.c
	s, p, ch := c.ImageSize, c.Patch, c.Channels
	if len(pixels) != ch*s*s {
		panic(fmt.Sprintf("gemma3: %d pixel values, want %dx%dx%d", len(pixels), ch, s, s))
	}
	side, n := s/p, ch*p*p
	rows := make([]float32, side*side*n)
	for py := range side {
		for px := range side {
			row := rows[(py*side+px)*n : (py*side+px+1)*n]
			for c := range ch {
				for ky := range p {
					for kx := range p {
						i := (c*p+ky)*p + kx
						if m.t.hwc {
							i = (ky*p+kx)*ch + c
						}
						row[i] = pixels[(c*s+py*p+ky)*s+px*p+kx]
					}
				}
			}
		}
	}
	x := o.Linear(o.Input(rows, side*side, n), &m.t.patch)
	return o.Add(x, o.Table(&m.t.pos))
}

// VisionLayer is SiglipEncoderLayer: pre-norm attention and MLP, each with
// its residual.
func (m *multimodal) VisionLayer(o model.VisionOps, l int, x model.Value) model.Value {
	L, eps := &m.t.layers[l], m.t.c.Eps
	h := o.LayerNorm(x, &L.norm1w, &L.norm1b, eps)
	q, k, v := o.Linear3(h, &L.q, &L.k, &L.v)
	x = o.Add(x, o.Linear(o.SelfAttention(q, k, v, &m.t.attn), &L.o))
	h = o.LayerNorm(x, &L.norm2w, &L.norm2b, eps)
	h = o.Linear(o.Act(o.Linear(h, &L.fc1), m.t.act), &L.fc2)
	return o.Add(x, h)
}

// VisionHead is post_layernorm and Gemma3MultiModalProjector.
func (m *multimodal) VisionHead(o model.VisionOps, x model.Value) model.Value {
	c := m.t.c
	x = o.LayerNorm(x, &m.t.postW, &m.t.postB, c.Eps)
	side := c.ImageSize / c.Patch
	x = o.Pool(x, side, side/int(math.Sqrt(float64(c.tokens))))
	return o.Linear(o.RMSNorm(x, &m.t.mmNorm, c.Eps, 1), &m.t.proj)
}
