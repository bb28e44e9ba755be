// Package granite is GraniteForCausalLM (IBM Granite 3.x): Llama's tensors and
// blocks with four µP multipliers from config.json, as transformers'
// modeling_granite.py applies them: the embeddings are multiplied by
// embedding_multiplier, attention scores by attention_multiplier (instead of
// 1/sqrt(head_dim)), each block's output by residual_multiplier before it joins
// the residual stream, and the logits are divided by logits_scaling.
package granite

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

func init() {
	model.Register(model.Arch{Name: "GraniteForCausalLM", Configure: configure, Build: Build})
}

// multipliers are GraniteConfig's; each defaults to 1.
type multipliers struct {
	Embedding float64 `json:"embedding_multiplier"`
	Residual  float64 `json:"residual_multiplier"`
	Attention float64 `json:"attention_multiplier"`
	Logits    float64 `json:"logits_scaling"`
}

func configure(c *model.Config, raw []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	m := multipliers{Embedding: 1, Residual: 1, Attention: 1, Logits: 1}
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for name, v := range map[string]float64{"embedding_multiplier": m.Embedding, "residual_multiplier": m.Residual,
		"attention_multiplier": m.Attention, "logits_scaling": m.Logits} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%s is %g, want a positive number", name, v)
		}
	}
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = false
	c.SlidingWindow = 0
	c.Family = m
	return nil
}

// Model runs Granite over the tensors llama.Build binds (the names are
// Llama's). It keeps the Llama model unexported so that executors reading the
// Llama layout directly cannot run it as plain Llama.
type Model struct {
	base *llama.Model
	m    multipliers
	eps  float64
	rope model.Rope
	attn model.Attention
}

// Build binds Granite's tensors.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	m, ok := c.Family.(multipliers)
	if !ok {
		return nil, fmt.Errorf("granite: config was not configured by this family")
	}
	def, err := llama.Build(c, b)
	if err != nil {
		return nil, err
	}
	return &Model{
		base: def.(*llama.Model),
		m:    m,
		eps:  c.RMSNormEps,
		rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)},
		attn: model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim, Scale: m.Attention},
	}, nil
}

func (m *Model) w() *llama.Weights { return m.base.Weights() }

func (m *Model) Layers() int { return len(m.w().Layers) }

func (m *Model) Embed(o model.Ops) model.Value {
	return o.Scale(o.Embed(&m.w().Embed), m.m.Embedding)
}

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.w().Layers[l]
	a := m.base.SelfAttention(l)
	a.Rope, a.Attn = &m.rope, &m.attn // attention_multiplier scales the scores
	x = o.Add(x, o.Scale(a.Forward(o, l, x), m.m.Residual))

	h := o.RMSNorm(x, &L.MLPNorm, m.eps, 0)
	return o.Add(x, o.Scale(model.GatedMLP(o, h, &L.Gate, &L.Up, &L.Down, model.SiLU), m.m.Residual))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value {
	return o.RMSNorm(x, &m.w().Norm, m.eps, 0)
}

func (m *Model) Logits(o model.Ops, h model.Value) model.Value {
	return o.Scale(o.Linear(h, &m.w().LMHead), 1/m.m.Logits)
}
