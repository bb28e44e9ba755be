package idefics3

import (
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/siglip"
)

// Idefics3VisionTransformer is SigLIP's (engine/model/siglip); what is
// Idefics3's own is the connector after it.

// tower is the bound vision transformer and connector.
type tower struct {
	c    *visionConfig
	enc  *siglip.Tower
	proj model.Linear // (text hidden, width·scale²) modality_projection, no bias
}

func bindTower(c *visionConfig, textHidden int, b *model.Binder, at layout) (*tower, error) {
	enc, err := siglip.Bind(c.Config, b, at.vision)
	if err != nil {
		return nil, err
	}
	t := &tower{c: c, enc: enc}
	if err := b.Linear(&t.proj, at.proj, textHidden, c.Hidden*c.scale*c.scale, false); err != nil {
		return nil, err
	}
	return t, nil
}

func (m *multimodal) VisionLayers() int { return m.t.enc.Layers() }

// VisionEmbed is Idefics3VisionEmbeddings for a whole tile.
func (m *multimodal) VisionEmbed(o model.VisionOps, pixels []float32) model.Value {
	return m.t.enc.Embed(o, pixels)
}

// VisionLayer is Idefics3EncoderLayer, SigLIP's.
func (m *multimodal) VisionLayer(o model.VisionOps, l int, x model.Value) model.Value {
	return m.t.enc.Layer(o, l, x)
}

// VisionHead is post_layernorm and Idefics3Connector: the pixel shuffle by
// scale_factor, then modality_projection.
func (m *multimodal) VisionHead(o model.VisionOps, x model.Value) model.Value {
	c := m.t.c
	x = m.t.enc.PostNorm(o, x)
	return o.Linear(o.Shuffle(x, c.Side(), c.scale), &m.t.proj)
}
