package idefics3

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

type visionLayer struct {
	norm1w, norm1b, norm2w, norm2b model.Tensor // (width)
	q, k, v, o                     model.Linear // (width, width) with biases
	fc1, fc2                       model.Linear // (inter, width), (width, inter) with biases
}

// tower is the bound vision transformer and connector.
type tower struct {
	c      *visionConfig
	patch  model.Linear // the convolution as (width, channels·patch·patch), with its bias
	hwc    bool         // the kernel is stored (out, ky, kx, channel), as MLX convolutions are
	pos    model.Linear // (patches, width)
	layers []visionLayer
	postW  model.Tensor // (width)
	postB  model.Tensor
	proj   model.Linear // (text hidden, width·scale²) modality_projection, no bias
	attn   model.Attention
	act    model.Activation
}

func bindTower(c *visionConfig, textHidden int, b *model.Binder, at layout) (*tower, error) {
	t := &tower{c: c, layers: make([]visionLayer, c.Layers), act: model.GELUTanh}
	if c.Act == "gelu" {
		t.act = model.GELU
	}
	w, side := c.Hidden, c.ImageSize/c.Patch
	hd := w / c.Heads
	t.attn = model.Attention{Heads: c.Heads, KVHeads: c.Heads, HeadDim: hd, Scale: 1 / math.Sqrt(float64(hd))}
	p := at.vision
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
	if err := b.Linear(&t.proj, at.proj, textHidden, w*c.scale*c.scale, false); err != nil {
		return nil, err
	}
	return t, nil
}

func (m *multimodal) VisionLayers() int { return len(m.t.layers) }

// VisionEmbed is Idefics3VisionEmbeddings for a whole tile: the convolution
// with kernel and stride patch_size is one linear layer over each patch's
// pixel values, taken in the kernel's order, patches numbered row by row
// (pixels past the last whole patch are not read, as the "valid"
// convolution does not).
// Its bucketed position ids are the identity on a tile every patch of which
// is real (fractional coordinates k/side fall in bucket k), and the image
// processor gives only such tiles, so the table is added as it is.
func (m *multimodal) VisionEmbed(o model.VisionOps, pixels []float32) model.Value {
	c := m.t.c
	s, p, ch := c.ImageSize, c.Patch, c.Channels
	if len(pixels) != ch*s*s {
		panic(fmt.Sprintf("idefics3: %d pixel values, want %dx%dx%d", len(pixels), ch, s, s))
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

// VisionLayer is Idefics3EncoderLayer: pre-norm attention over every patch
// of the tile and a GELU MLP, each with its residual.
func (m *multimodal) VisionLayer(o model.VisionOps, l int, x model.Value) model.Value {
	L, eps := &m.t.layers[l], m.t.c.Eps
	h := o.LayerNorm(x, &L.norm1w, &L.norm1b, eps)
	q, k, v := o.Linear3(h, &L.q, &L.k, &L.v)
	x = o.Add(x, o.Linear(o.SelfAttention(q, k, v, &m.t.attn), &L.o))
	h = o.LayerNorm(x, &L.norm2w, &L.norm2b, eps)
	h = o.Linear(o.Act(o.Linear(h, &L.fc1), m.t.act), &L.fc2)
	return o.Add(x, h)
}

// VisionHead is post_layernorm and Idefics3Connector: the pixel shuffle by
// scale_factor, then modality_projection.
func (m *multimodal) VisionHead(o model.VisionOps, x model.Value) model.Value {
	c := m.t.c
	x = o.LayerNorm(x, &m.t.postW, &m.t.postB, c.Eps)
	return o.Linear(o.Shuffle(x, c.ImageSize/c.Patch, c.scale), &m.t.proj)
}
