// Package olmo2 is Olmo2ForCausalLM (AllenAI OLMo 2), as transformers'
// modeling_olmo2.py has it: no norm before the blocks but one after each
// (post_attention_layernorm on the attention output, post_feedforward_layernorm
// on the MLP output, both before the residual add), and RMSNorms on q and k
// over the whole projection (q_norm has heads*head_dim weights), applied
// before RoPE.
package olmo2

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

func init() {
	model.Register(model.Arch{Name: "Olmo2ForCausalLM", Configure: configure, Build: Build})
}

func configure(c *model.Config, _ []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	if c.MLPBias {
		return fmt.Errorf("olmo2 has no mlp biases")
	}
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = false // over the whole projection, not per head: the family's own
	c.SlidingWindow = 0
	return nil
}

type layer struct {
	q, k, v, o       model.Linear // q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden), o (hidden, heads*headDim)
	qNorm, kNorm     model.Tensor // (heads*headDim), (kvHeads*headDim)
	postAttn, postFF model.Tensor // (hidden)
	gate, up, down   model.Linear // (intermediate, hidden), (hidden, intermediate)
}

// Model is OLMo 2's forward pass over its bound tensors.
type Model struct {
	embed, head model.Linear // (vocab, hidden)
	norm        model.Tensor // (hidden)
	layers      []layer
	eps         float64
	rope        model.Rope
	attn        model.Attention
}

// Build binds OLMo 2's tensors (Hugging Face names).
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	m := &Model{
		eps:  c.RMSNormEps,
		rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)},
		attn: model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim))},
		layers: make([]layer, c.NumHiddenLayers),
	}
	h, inter := c.HiddenSize, c.IntermediateSize
	qd, kd := c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim
	if err := b.Outer(c, model.HFOuter, c.TieWordEmbeddings, &m.embed, &m.norm, &m.head); err != nil {
		return nil, err
	}
	for i := range m.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		L, p := &m.layers[i], fmt.Sprintf("model.layers.%d.", i)
		for _, t := range []struct {
			dst     *model.Linear
			name    string
			out, in int
			bias    bool
		}{
			{&L.q, "self_attn.q_proj", qd, h, c.QKVBias},
			{&L.k, "self_attn.k_proj", kd, h, c.QKVBias},
			{&L.v, "self_attn.v_proj", kd, h, c.QKVBias},
			{&L.o, "self_attn.o_proj", h, qd, c.OBias},
			{&L.gate, "mlp.gate_proj", inter, h, false},
			{&L.up, "mlp.up_proj", inter, h, false},
			{&L.down, "mlp.down_proj", h, inter, false},
		} {
			if err := b.Linear(t.dst, p+t.name, t.out, t.in, t.bias); err != nil {
				return nil, err
			}
		}
		for _, t := range []struct {
			dst  *model.Tensor
			name string
			n    int
		}{
			{&L.qNorm, "self_attn.q_norm.weight", qd},
			{&L.kNorm, "self_attn.k_norm.weight", kd},
			{&L.postAttn, "post_attention_layernorm.weight", h},
			{&L.postFF, "post_feedforward_layernorm.weight", h},
		} {
			if err := b.Vector(t.dst, p+t.name, t.n); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *Model) Layers() int { return len(m.layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Embed(&m.embed) }

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.layers[l]
	q, k, v := o.Linear3(x, &L.q, &L.k, &L.v)
	q, k = o.RMSNorm(q, &L.qNorm, m.eps, 0), o.RMSNorm(k, &L.kNorm, m.eps, 0)
	q, k = o.RoPE(q, &m.rope), o.RoPE(k, &m.rope)
	a := o.Linear(o.Attention(l, q, k, v, &m.attn), &L.o)
	x = o.Add(x, o.RMSNorm(a, &L.postAttn, m.eps, 0))

	f := model.GatedMLP(o, x, &L.gate, &L.up, &L.down, model.SiLU)
	return o.Add(x, o.RMSNorm(f, &L.postFF, m.eps, 0))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value { return o.RMSNorm(x, &m.norm, m.eps, 0) }

func (m *Model) Logits(o model.Ops, h model.Value) model.Value { return o.Linear(h, &m.head) }
