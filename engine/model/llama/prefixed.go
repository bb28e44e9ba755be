package llama

import (
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// BuildAt binds a Llama-layout text model whose tensors sit under prefix
// (embed_tokens, layers.N., norm) instead of "model.", with head (or the
// tied embeddings) as the output head: the text model of a vision-language
// checkpoint (Idefics3's model.text_model. and lm_head).
func BuildAt(c *model.Config, b *model.Binder, prefix, head string) (*Model, error) {
	m := newModel(c)
	w := &m.w
	names := model.OuterNames{Embed: prefix + "embed_tokens", Norm: prefix + "norm", Head: head}
	if err := b.Outer(c, names, c.TieWordEmbeddings, &w.Embed, &w.Norm, &w.LMHead); err != nil {
		return nil, err
	}
	w.Layers = make([]Layer, c.NumHiddenLayers)
	for i := range w.Layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		if err := bindLayer(b, &w.Layers[i], fmt.Sprintf("%slayers.%d.", prefix, i), c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
