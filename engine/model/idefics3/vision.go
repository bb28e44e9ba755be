package idefics3

import (
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/siglip"
)

// tower is the bound vision transformer, SigLIP's (Idefics3VisionTransformer
// is the same), and the connector, Idefics3's own.
type tower struct {
	*siglip.Tower
	c    *visionConfig
	proj model.Linear // (text hidden, width·scale²) modality_projection, no bias
}

func bindTower(c *visionConfig, textHidden int, b *model.Binder, at layout) (*tower, error) {
	enc, err := siglip.Bind(c.Config, b, at.vision)
	if err != nil {
		return nil, err
	}
	t := &tower{Tower: enc, c: c}
	if err := b.Linear(&t.proj, at.proj, textHidden, c.Hidden*c.scale*c.scale, false); err != nil {
		return nil, err
	}
	return t, nil
}

// VisionHead is post_layernorm and Idefics3Connector: the pixel shuffle by
// scale_factor, then modality_projection.
func (m *multimodal) VisionHead(o model.VisionOps, x model.Value) model.Value {
	c := m.c
	x = m.PostNorm(o, x)
	return o.Linear(o.Shuffle(x, c.Side(), c.scale), &m.proj)
}
