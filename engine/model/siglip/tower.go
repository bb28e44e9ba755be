package siglip

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Config is the tower's part of a SiglipVisionConfig (or a config that
// copies it, as Idefics3VisionConfig does); families embed it in their own
// vision settings, so its fields are read straight from vision_config.
type Config struct {
	Hidden    int     `json:"hidden_size"`
	Inter     int     `json:"intermediate_size"`
	Layers    int     `json:"num_hidden_layers"`
	Heads     int     `json:"num_attention_heads"`
	Channels  int     `json:"num_channels"`
	ImageSize int     `json:"image_size"`
	Patch     int     `json:"patch_size"`
	Eps       float64 `json:"layer_norm_eps"`
	Act       string  `json:"hidden_act"`
}

// Check rejects an activation the tower does not implement and sizes it
// cannot be built with. Image and patch sizes are the family's to check:
// Gemma 3 wants whole patches, Idefics3 allows a last partial one.
func (c *Config) Check() error {
	switch {
	case c.Act != "gelu_pytorch_tanh" && c.Act != "gelu":
		return fmt.Errorf("hidden_act %q is not supported", c.Act)
	case c.Hidden <= 0 || c.Inter <= 0 || c.Layers <= 0 || c.Layers > 1<<10 || c.Channels <= 0 || c.Channels > 4:
		return fmt.Errorf("sizes %d/%d, %d layers, %d channels", c.Hidden, c.Inter, c.Layers, c.Channels)
	case c.Heads <= 0 || c.Hidden%c.Heads != 0:
		return fmt.Errorf("hidden_size %d over %d heads", c.Hidden, c.Heads)
	}
	return nil
}

// Side is the number of patches along each side of the image; a last
// partial patch is not read (the convolution is "valid").
func (c *Config) Side() int { return c.ImageSize / c.Patch }

type layer struct {
	norm1w, norm1b, norm2w, norm2b model.Tensor // (width)
	q, k, v, o                     model.Linear // (width, width) with biases
	fc1, fc2                       model.Linear // (inter, width), (width, inter) with biases
}

// Tower is a bound SigLIP vision transformer. The Binder records the
// addresses of its tensors, so it lives behind the pointer Bind returns.
// Its methods are model.Vision's tower steps: a family embeds *Tower in its
// Definition and adds Image and a VisionHead that starts with PostNorm.
type Tower struct {
	c      Config
	patch  model.Linear // the convolution as (width, channels·patch·patch), with its bias
	hwc    bool         // the kernel is stored (out, ky, kx, channel), as MLX convolutions are
	pos    model.Linear // (patches, width)
	layers []layer
	postW  model.Tensor // (width)
	postB  model.Tensor
	attn   model.Attention
	act    model.Activation
}

// Bind binds the tower's tensors under p, the path of its
// SiglipVisionTransformer ("vision_tower.vision_model." in Gemma 3,
// "model.vision_model." in Idefics3), with the names modeling_siglip.py
// gives them.
func Bind(c Config, b *model.Binder, p string) (*Tower, error) {
	// Families check their config when they parse it; this keeps a call
	// that skipped it from dividing by zero.
	if err := c.Check(); err != nil {
		return nil, err
	}
	if c.Patch <= 0 || c.ImageSize < c.Patch {
		return nil, fmt.Errorf("image_size %d, patch_size %d", c.ImageSize, c.Patch)
	}
	t := &Tower{c: c, layers: make([]layer, c.Layers), act: model.GELUTanh}
	if c.Act == "gelu" {
		t.act = model.GELU
	}
	w, side := c.Hidden, c.Side()
	hd := w / c.Heads
	t.attn = model.Attention{Heads: c.Heads, KVHeads: c.Heads, HeadDim: hd, Scale: 1 / math.Sqrt(float64(hd))}
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
		if err := t.layers[l].bind(b, fmt.Sprintf("%sencoder.layers.%d.", p, l), w, c.Inter); err != nil {
			return nil, err
		}
	}
	if err := b.Vector(&t.postW, p+"post_layernorm.weight", w); err != nil {
		return nil, err
	}
	if err := b.Vector(&t.postB, p+"post_layernorm.bias", w); err != nil {
		return nil, err
	}
	return t, nil
}

func (L *layer) bind(b *model.Binder, lp string, w, inter int) error {
	for _, x := range []struct {
		dst     *model.Linear
		name    string
		out, in int
	}{
		{&L.q, "self_attn.q_proj", w, w}, {&L.k, "self_attn.k_proj", w, w}, {&L.v, "self_attn.v_proj", w, w},
		{&L.o, "self_attn.out_proj", w, w}, {&L.fc1, "mlp.fc1", inter, w}, {&L.fc2, "mlp.fc2", w, inter},
	} {
		if err := b.Linear(x.dst, lp+x.name, x.out, x.in, true); err != nil {
			return err
		}
	}
	for _, x := range []struct {
		dst  *model.Tensor
		name string
	}{{&L.norm1w, "layer_norm1.weight"}, {&L.norm1b, "layer_norm1.bias"}, {&L.norm2w, "layer_norm2.weight"}, {&L.norm2b, "layer_norm2.bias"}} {
		if err := b.Vector(x.dst, lp+x.name, w); err != nil {
			return err
		}
	}
	return nil
}

// VisionLayers is the number of encoder layers.
func (t *Tower) VisionLayers() int { return len(t.layers) }

// VisionEmbed is SiglipVisionEmbeddings (Idefics3VisionEmbeddings for a
// whole tile): the convolution with kernel and stride
// patch_size is one linear layer over each patch's pixel values (channels,
// size, size), taken in the kernel's order, patches numbered row by row
// (pixels past the last whole patch are not read, as the "valid"
// convolution does not), plus the position table.
// Idefics3's bucketed position ids are the identity on an image every patch
// of which is real (fractional coordinates k/side fall in bucket k), and its
// image processor gives only such tiles, so the table is added as it is
// there too.
func (t *Tower) VisionEmbed(o model.VisionOps, pixels []float32) model.Value {
	s, p, ch := t.c.ImageSize, t.c.Patch, t.c.Channels
	if len(pixels) != ch*s*s {
		panic(fmt.Sprintf("siglip: %d pixel values, want %dx%dx%d", len(pixels), ch, s, s))
	}
	side, n := t.c.Side(), ch*p*p
	rows := make([]float32, side*side*n)
	for py := range side {
		for px := range side {
			row := rows[(py*side+px)*n : (py*side+px+1)*n]
			for c := range ch {
				for ky := range p {
					for kx := range p {
						i := (c*p+ky)*p + kx
						if t.hwc {
							i = (ky*p+kx)*ch + c
						}
						row[i] = pixels[(c*s+py*p+ky)*s+px*p+kx]
					}
				}
			}
		}
	}
	x := o.Linear(o.Input(rows, side*side, n), &t.patch)
	return o.Add(x, o.Table(&t.pos))
}

// VisionLayer is SiglipEncoderLayer l (Idefics3EncoderLayer is the same): pre-norm attention over every patch and a
// GELU MLP, each with its residual.
func (t *Tower) VisionLayer(o model.VisionOps, l int, x model.Value) model.Value {
	L, eps := &t.layers[l], t.c.Eps
	h := o.LayerNorm(x, &L.norm1w, &L.norm1b, eps)
	q, k, v := o.Linear3(h, &L.q, &L.k, &L.v)
	x = o.Add(x, o.Linear(o.SelfAttention(q, k, v, &t.attn), &L.o))
	h = o.LayerNorm(x, &L.norm2w, &L.norm2b, eps)
	h = o.Linear(o.Act(o.Linear(h, &L.fc1), t.act), &L.fc2)
	return o.Add(x, h)
}

// PostNorm is post_layernorm, the tower's last step.
func (t *Tower) PostNorm(o model.VisionOps, x model.Value) model.Value {
	return o.LayerNorm(x, &t.postW, &t.postB, t.c.Eps)
}
