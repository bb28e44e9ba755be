// Package phi3 is Phi3ForCausalLM (Microsoft Phi-3, Phi-3.5-mini, Phi-4-mini),
// as transformers' modeling_phi3.py has it: Llama's blocks with q, k and v in
// one qkv_proj and gate and up in one gate_up_proj (bound here as separate
// row blocks), RoPE on the first partial_rotary_factor of each head only, and
// longrope scaling: inverse frequencies divided by short_factor, or by
// long_factor past original_max_position_embeddings, with cos and sin
// multiplied by an attention factor, sqrt(1 + ln(factor)/ln(original)) unless
// config.json gives one. sliding_window, when set, applies to every layer.
//
// One difference from transformers: it switches a whole forward pass to the
// long factors once the sequence is longer than the original context, where
// model.Rope switches per position (see its doc). Prompts within the original
// context (4096 tokens for Phi-3.5 and Phi-4-mini) are computed alike.
package phi3

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	model.Register(model.Arch{Name: "Phi3ForCausalLM", Configure: configure, Build: Build})
}

// settings are what Phi3Config adds to model.Config.
type settings struct {
	rope   model.Rope
	window int
}

type rawConfig struct {
	PartialRotaryFactor *float64 `json:"partial_rotary_factor"`
	OriginalMax         *int     `json:"original_max_position_embeddings"`
	SlidingWindow       *int     `json:"sliding_window"`
	RopeScaling         *struct {
		Type            string    `json:"type"`
		RopeType        string    `json:"rope_type"`
		ShortFactor     []float64 `json:"short_factor"`
		LongFactor      []float64 `json:"long_factor"`
		Factor          *float64  `json:"factor"`
		AttentionFactor *float64  `json:"attention_factor"`
		OriginalMax     *int      `json:"original_max_position_embeddings"`
	} `json:"rope_scaling"`
}

func configure(c *model.Config, b []byte) error {
	if c.HiddenAct != "silu" {
		return fmt.Errorf("hidden_act %q is not supported (silu is)", c.HiddenAct)
	}
	if c.AttentionBias || c.MLPBias {
		return fmt.Errorf("phi3 has no attention or mlp biases")
	}
	var r rawConfig
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	partial := 1.0
	if r.PartialRotaryFactor != nil {
		partial = *r.PartialRotaryFactor
	}
	dims := int(float64(c.HeadDim) * partial)
	if dims <= 0 || dims > c.HeadDim || dims%2 != 0 {
		return fmt.Errorf("partial_rotary_factor %g gives %d rotated features of %d", partial, dims, c.HeadDim)
	}
	s := settings{rope: model.Rope{HeadDim: c.HeadDim, Dims: dims, Freqs: freqs(c.RopeTheta, dims, nil)}}
	if rs := r.RopeScaling; rs != nil {
		typ := rs.RopeType
		if typ == "" {
			typ = rs.Type
		}
		if typ != "longrope" {
			return fmt.Errorf("rope_scaling type %q is not supported by Phi-3 (longrope is)", typ)
		}
		if len(rs.ShortFactor) != dims/2 || len(rs.LongFactor) != dims/2 {
			return fmt.Errorf("longrope has %d short and %d long factors for %d rotated pairs", len(rs.ShortFactor), len(rs.LongFactor), dims/2)
		}
		orig := 0
		if r.OriginalMax != nil {
			orig = *r.OriginalMax
		}
		if rs.OriginalMax != nil {
			orig = *rs.OriginalMax
		}
		if orig <= 0 {
			return fmt.Errorf("longrope needs original_max_position_embeddings")
		}
		factor := float64(c.MaxPositionEmbeddings) / float64(orig)
		if rs.Factor != nil {
			factor = *rs.Factor
		}
		scale := 1.0
		if factor > 1 {
			scale = math.Sqrt(1 + math.Log(factor)/math.Log(float64(orig)))
		}
		if rs.AttentionFactor != nil {
			scale = *rs.AttentionFactor
		}
		s.rope.Freqs = freqs(c.RopeTheta, dims, rs.ShortFactor)
		s.rope.LongFreqs = freqs(c.RopeTheta, dims, rs.LongFactor)
		s.rope.LongFrom = orig
		s.rope.Scale = scale
	}
	if r.SlidingWindow != nil {
		if *r.SlidingWindow <= 0 {
			return fmt.Errorf("sliding_window is %d", *r.SlidingWindow)
		}
		s.window = *r.SlidingWindow
	}
	c.QKVBias, c.OBias, c.QKNorm = false, false, false
	c.SlidingWindow = s.window
	c.Family = s
	return nil
}

// freqs are 1/(ext[i] * theta^(2i/dims)); ext nil means 1.
func freqs(theta float64, dims int, ext []float64) []float64 {
	f := make([]float64, dims/2)
	for i := range f {
		e := 1.0
		if ext != nil {
			e = ext[i]
		}
		f[i] = 1 / (e * math.Pow(theta, float64(2*i)/float64(dims)))
	}
	return f
}

type layer struct {
	q, k, v, o      model.Linear // blocks of qkv_proj: q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden); o (hidden, heads*headDim)
	gate, up, down  model.Linear // blocks of gate_up_proj: (intermediate, hidden); down (hidden, intermediate)
	inNorm, mlpNorm model.Tensor // (hidden)
}

// Model is Phi-3's forward pass over its bound tensors.
type Model struct {
	embed, head model.Linear // (vocab, hidden)
	norm        model.Tensor // (hidden)
	layers      []layer
	eps         float64
	rope        model.Rope
	attn        model.Attention
}

// Build binds Phi-3's tensors.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	s, ok := c.Family.(settings)
	if !ok {
		return nil, fmt.Errorf("phi3: config was not configured by this family")
	}
	m := &Model{eps: c.RMSNormEps, rope: s.rope, layers: make([]layer, c.NumHiddenLayers),
		attn: model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim)), Window: s.window}}
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
		if err := b.Rows([]*model.Linear{&L.q, &L.k, &L.v}, p+"self_attn.qkv_proj", []int{qd, kd, kd}, h); err != nil {
			return nil, err
		}
		if err := b.Linear(&L.o, p+"self_attn.o_proj", h, qd, false); err != nil {
			return nil, err
		}
		if err := b.Rows([]*model.Linear{&L.gate, &L.up}, p+"mlp.gate_up_proj", []int{inter, inter}, h); err != nil {
			return nil, err
		}
		if err := b.Linear(&L.down, p+"mlp.down_proj", h, inter, false); err != nil {
			return nil, err
		}
		if err := b.Vector(&L.inNorm, p+"input_layernorm.weight", h); err != nil {
			return nil, err
		}
		if err := b.Vector(&L.mlpNorm, p+"post_attention_layernorm.weight", h); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Model) Layers() int { return len(m.layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Embed(&m.embed) }

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.layers[l]
	a := model.SelfAttention{Norm: &L.inNorm, Q: &L.q, K: &L.k, V: &L.v, O: &L.o, Eps: m.eps, Rope: &m.rope, Attn: &m.attn}
	x = o.Add(x, a.Forward(o, l, x))

	h := o.RMSNorm(x, &L.mlpNorm, m.eps, 0)
	return o.Add(x, model.GatedMLP(o, h, &L.gate, &L.up, &L.down, model.SiLU))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value { return o.RMSNorm(x, &m.norm, m.eps, 0) }

func (m *Model) Logits(o model.Ops, h model.Value) model.Value { return o.Linear(h, &m.head) }
