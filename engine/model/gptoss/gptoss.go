// Package gptoss registers GptOssForCausalLM, OpenAI's gpt-oss-20b and
// gpt-oss-120b, as transformers' modeling_gpt_oss.py computes it: pre-norm
// blocks whose attention has biases on q, k, v and o, a learned sink logit
// per head (self_attn.sinks) and YaRN-scaled RoPE, on layers that alternate
// a sliding window and full attention (layer_types); and a sparse mixture of
// experts on every layer whose router has a bias, picks the top k logits and
// weighs them by their softmax, and whose experts (with biases) use a
// clamped SwiGLU, (clamp(up) + 1) · g·sigmoid(1.702·g) with g = min(gate,
// swiglu_limit).
//
// The experts load in transformers' layout (mlp.experts.gate_up_proj with
// gate and up columns interleaved, input-major, plus down_proj and the
// biases), in the MXFP4 release's (gate_up_proj_blocks and _scales,
// output-major, as openai/gpt-oss-20b ships) and in mlx-lm's
// (mlp.experts.{gate,up,down}_proj stacked, with .bias, float, MLX affine or
// MLX mxfp4).
package gptoss

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	model.Register(model.Arch{Name: "GptOssForCausalLM", Configure: configure, Build: Build})
}

// alpha is GptOssExperts.alpha: a constant of the source, not of config.json.
const alpha = 1.702

// Config is what configure read beyond model.Config (model.Config.Family).
type Config struct {
	Experts int     // num_local_experts
	TopK    int     // num_experts_per_tok
	Inter   int     // intermediate_size: each expert's width
	Limit   float64 // swiglu_limit
	Sliding []bool  // per layer: layer_types[l] == "sliding_attention"
	Window  int     // sliding_window of the sliding layers
}

type rawConfig struct {
	NumLocalExperts  *int     `json:"num_local_experts"`
	NumExpertsPerTok *int     `json:"num_experts_per_tok"`
	SwigluLimit      *float64 `json:"swiglu_limit"`
	SlidingWindow    *int     `json:"sliding_window"`
	AttentionBias    *bool    `json:"attention_bias"`
	LayerTypes       []string `json:"layer_types"`
}

// configure reads GptOssConfig's keys with its defaults (128 experts, 4 per
// token, swiglu_limit 7, a window of 128, attention_bias true, layers
// alternating sliding and full from the first).
func configure(c *model.Config, raw []byte) error {
	var r rawConfig
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if c.HiddenAct != "silu" {
		// hidden_act is unused by the source; anything else is a different model.
		return fmt.Errorf("hidden_act %q is not supported (silu is)", c.HiddenAct)
	}
	if s := c.RopeScaling; s != nil && s.Type != "yarn" {
		return fmt.Errorf("rope_scaling %s is not supported (yarn is)", s.Type)
	}
	or := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	g := &Config{Experts: or(r.NumLocalExperts, 128), TopK: or(r.NumExpertsPerTok, 4),
		Inter: c.IntermediateSize, Limit: 7, Window: or(r.SlidingWindow, 128)}
	if r.SwigluLimit != nil {
		g.Limit = *r.SwigluLimit
	}
	g.Sliding = make([]bool, c.NumHiddenLayers)
	if r.LayerTypes != nil && len(r.LayerTypes) != c.NumHiddenLayers {
		return fmt.Errorf("%d layer_types for %d layers", len(r.LayerTypes), c.NumHiddenLayers)
	}
	for l := range g.Sliding {
		if r.LayerTypes == nil {
			g.Sliding[l] = l%2 == 0
			continue
		}
		switch r.LayerTypes[l] {
		case "sliding_attention":
			g.Sliding[l] = true
		case "full_attention":
		default:
			return fmt.Errorf("layer_types[%d] %q (sliding_attention and full_attention are)", l, r.LayerTypes[l])
		}
	}
	switch {
	case g.Experts <= 0 || g.Experts > 1<<12:
		return fmt.Errorf("%d experts", g.Experts)
	case g.TopK <= 0 || g.TopK > g.Experts:
		return fmt.Errorf("num_experts_per_tok %d for %d experts", g.TopK, g.Experts)
	case g.Inter <= 0:
		return errors.New("intermediate_size is missing")
	case !(g.Limit > 0) || math.IsInf(g.Limit, 0):
		return fmt.Errorf("swiglu_limit %g", g.Limit)
	case g.Window <= 0:
		return fmt.Errorf("sliding_window %d", g.Window)
	}
	bias := r.AttentionBias == nil || *r.AttentionBias
	c.AttentionBias, c.QKVBias, c.OBias = bias, bias, bias
	c.QKNorm, c.MLPBias = false, false
	// The window is per layer (Config.Sliding); model.Config's is for
	// families that slide on every layer.
	c.SlidingWindow = 0
	c.Family = g
	return nil
}

// Active is how many parameters one token reads (the output head, attention,
// routers and TopK experts of each layer) and how many there are.
func (g *Config) Active(c *model.Config) (active, total int64) {
	h := int64(c.HiddenSize)
	q, kv := int64(c.NumAttentionHeads*c.HeadDim), int64(c.NumKeyValueHeads*c.HeadDim)
	embed := int64(c.VocabSize) * h
	total, active = embed+h, embed+h // the head (as big as the table) and the final norm
	if !c.TieWordEmbeddings {
		total += embed
	}
	e, inter := int64(g.Experts), int64(g.Inter)
	expert := 3*h*inter + 2*inter + h
	for range c.NumHiddenLayers {
		shared := 2*h*q + 2*h*kv + 2*h // q, k, v, o and the two norms
		if c.QKVBias {
			shared += q + 2*kv
		}
		if c.OBias {
			shared += h
		}
		shared += int64(c.NumAttentionHeads) + e*h + e // sinks and the router
		total += shared + e*expert
		active += shared + int64(g.TopK)*expert
	}
	return active, total
}

// Layer holds one block's weights.
type Layer struct {
	AttnNorm   model.Tensor // (hidden) input_layernorm
	Q, K, V, O model.Linear // q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden), o (hidden, heads*headDim); with biases
	Sinks      model.Tensor // (heads) self_attn.sinks
	MLPNorm    model.Tensor // (hidden) post_attention_layernorm
	MoE        model.MoE
	attn       model.Attention // this layer's window and sinks
}

// Model is the GPT-OSS decoder.
type Model struct {
	embed, head model.Linear
	norm        model.Tensor
	layers      []Layer
	eps         float64
	rope        model.Rope
}

// Build binds the weights of a model configured by configure.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	g, ok := c.Family.(*Config)
	if !ok {
		return nil, fmt.Errorf("%w: %v: no gpt-oss settings", model.ErrInvalidConfig, c.Architectures)
	}
	m := &Model{eps: c.RMSNormEps, rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)}}
	if c.RopeScaling != nil {
		m.rope.Scale = model.YarnAttentionFactor(c.RopeScaling)
	}
	h := c.HiddenSize
	if err := b.Linear(&m.embed, "model.embed_tokens", c.VocabSize, h, false); err != nil {
		return nil, err
	}
	if err := b.Vector(&m.norm, "model.norm.weight", h); err != nil {
		return nil, err
	}
	if c.TieWordEmbeddings {
		b.Tie(&m.head, &m.embed)
	} else if err := b.Linear(&m.head, "lm_head", c.VocabSize, h, false); err != nil {
		return nil, err
	}
	m.layers = make([]Layer, c.NumHiddenLayers)
	for i := range m.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		if err := bindLayer(b, &m.layers[i], fmt.Sprintf("model.layers.%d.", i), c, g); err != nil {
			return nil, err
		}
		L := &m.layers[i]
		L.attn = model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim)), Sinks: &L.Sinks}
		if g.Sliding[i] {
			L.attn.Window = g.Window
		}
	}
	return m, nil
}

func bindLayer(b *model.Binder, l *Layer, p string, c *model.Config, g *Config) error {
	q, kv, h := c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim, c.HiddenSize
	for _, t := range []struct {
		dst     *model.Linear
		name    string
		out, in int
		bias    bool
	}{
		{&l.Q, "self_attn.q_proj", q, h, c.QKVBias},
		{&l.K, "self_attn.k_proj", kv, h, c.QKVBias},
		{&l.V, "self_attn.v_proj", kv, h, c.QKVBias},
		{&l.O, "self_attn.o_proj", h, q, c.OBias},
	} {
		if err := b.Linear(t.dst, p+t.name, t.out, t.in, t.bias); err != nil {
			return err
		}
	}
	for _, v := range []struct {
		dst  *model.Tensor
		name string
		n    int
	}{
		{&l.AttnNorm, "input_layernorm.weight", h},
		{&l.MLPNorm, "post_attention_layernorm.weight", h},
		{&l.Sinks, "self_attn.sinks", c.NumAttentionHeads},
	} {
		if err := b.Vector(v.dst, p+v.name, v.n); err != nil {
			return err
		}
	}
	l.MoE = model.MoE{TopK: g.TopK, NormTopK: true, Clamp: &model.Clamp{Alpha: alpha, Limit: g.Limit}}
	ex := p + "mlp.experts."
	if b.Has(ex+"gate_up_proj") || b.Has(ex+"gate_up_proj_blocks") {
		return b.FusedExperts(&l.MoE, p+"mlp.router", g.Experts, h, g.Inter, ex+"gate_up_proj", ex+"down_proj")
	}
	return b.StackedExperts(&l.MoE, p+"mlp.router", g.Experts, h, g.Inter,
		[3]string{ex + "gate_proj", ex + "up_proj", ex + "down_proj"})
}

func (m *Model) Layers() int { return len(m.layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Embed(&m.embed) }

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.layers[l]
	h := o.RMSNorm(x, &L.AttnNorm, m.eps, 0)
	q, k, v := o.Linear3(h, &L.Q, &L.K, &L.V)
	q, k = o.RoPE(q, &m.rope), o.RoPE(k, &m.rope)
	x = o.Add(x, o.Linear(o.Attention(l, q, k, v, &L.attn), &L.O))
	h = o.RMSNorm(x, &L.MLPNorm, m.eps, 0)
	return o.Add(x, o.MoE(h, &L.MoE))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value {
	return o.RMSNorm(x, &m.norm, m.eps, 0)
}

func (m *Model) Logits(o model.Ops, h model.Value) model.Value { return o.Linear(h, &m.head) }

var _ model.SparseCounter = (*Config)(nil)
