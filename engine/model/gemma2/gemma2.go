// Package gemma2 is Gemma2ForCausalLM (Google Gemma 2), as transformers'
// modeling_gemma2.py has it, and the Gemma decoder that Gemma 3 extends
// (engine/model/gemma3):
//   - embeddings multiplied by sqrt(hidden_size), rounded to the model's dtype
//     first as transformers does (bfloat16 makes sqrt(2560)=50.6 into 50.5);
//   - RMSNorms scale by (1 + w), four per layer: before and after attention,
//     before and after the MLP, the "after" ones applied before the residual add;
//   - GeGLU MLP with the tanh approximation of GELU;
//   - attention scores scaled by query_pre_attn_scalar^-0.5 and soft-capped by
//     attn_logit_softcapping; sliding-window layers (layer_types, by default
//     every even layer) alternate with global ones;
//   - logits soft-capped by final_logit_softcapping; tied embeddings.
package gemma2

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	model.Register(model.Arch{Name: "Gemma2ForCausalLM", Configure: configure, Build: Build})
}

// Settings are what a Gemma config.json says beyond model.Config; Gemma 3's
// package fills the fields Gemma 2 leaves zero.
type Settings struct {
	QueryPreAttnScalar float64
	AttnSoftcap        float64 // 0: none
	FinalSoftcap       float64 // 0: none
	Window             int     // sliding_window of the sliding layers
	Sliding            []bool  // per layer
	EmbedScale         float64 // sqrt(hidden_size) in the model's dtype

	// Gemma 3.
	QKNorm      bool      // per-head q_norm and k_norm, (1 + w)
	LocalFreqs  []float64 // sliding layers' RoPE frequencies (rope_local_base_freq, unscaled); nil: the global ones
	TextPrefix  string    // where the text model's tensors live: "model." or a multimodal checkpoint's prefix
	GlobalFreqs []float64 // full-attention layers' RoPE frequencies (rope_theta, rope_scaling)
}

// Raw are the keys of Gemma2Config and Gemma3TextConfig this package reads;
// pointers tell absent from zero, for the families' defaults.
type Raw struct {
	HiddenActivation   string   `json:"hidden_activation"`
	QueryPreAttnScalar *float64 `json:"query_pre_attn_scalar"`
	AttnSoftcap        *float64 `json:"attn_logit_softcapping"`
	FinalSoftcap       *float64 `json:"final_logit_softcapping"`
	SlidingWindow      *int     `json:"sliding_window"`
	LayerTypes         []string `json:"layer_types"`
}

func configure(c *model.Config, raw []byte) error {
	var r Raw
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	s, err := Common(c, &r, func(l int) bool { return l%2 == 0 })
	if err != nil {
		return err
	}
	s.AttnSoftcap, s.FinalSoftcap = or(r.AttnSoftcap, 50), or(r.FinalSoftcap, 30)
	s.GlobalFreqs = model.RopeFreqs(c)
	c.Family = s
	return nil
}

func or(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// Common reads what Gemma 2 and 3 share and checks what both require;
// defaultSliding says which layers slide when layer_types is absent.
func Common(c *model.Config, r *Raw, defaultSliding func(l int) bool) (*Settings, error) {
	if r.HiddenActivation != "" {
		c.HiddenAct = r.HiddenActivation // hidden_activation is Gemma's name, and wins
	}
	if c.HiddenAct != "gelu_pytorch_tanh" {
		return nil, fmt.Errorf("hidden activation %q: Gemma's GeGLU is gelu_pytorch_tanh", c.HiddenAct)
	}
	if c.AttentionBias || c.MLPBias {
		return nil, fmt.Errorf("gemma has no attention or mlp biases")
	}
	if r := c.RopeScaling; r != nil && r.Type != "linear" {
		return nil, fmt.Errorf("rope_scaling type %q is not supported by Gemma", r.Type)
	}
	s := &Settings{
		QueryPreAttnScalar: or(r.QueryPreAttnScalar, 256),
		Window:             4096,
		Sliding:            make([]bool, c.NumHiddenLayers),
		EmbedScale:         roundTo(c.TorchDType, math.Sqrt(float64(c.HiddenSize))),
		TextPrefix:         "model.",
	}
	if r.SlidingWindow != nil {
		s.Window = *r.SlidingWindow
	}
	if s.Window <= 0 || !(s.QueryPreAttnScalar > 0) {
		return nil, fmt.Errorf("sliding_window %d, query_pre_attn_scalar %g", s.Window, s.QueryPreAttnScalar)
	}
	if r.LayerTypes != nil && len(r.LayerTypes) != c.NumHiddenLayers {
		return nil, fmt.Errorf("%d layer_types for %d layers", len(r.LayerTypes), c.NumHiddenLayers)
	}
	for l := range s.Sliding {
		if r.LayerTypes != nil {
			s.Sliding[l] = r.LayerTypes[l] == "sliding_attention"
		} else {
			s.Sliding[l] = defaultSliding(l)
		}
	}
	c.QKVBias, c.OBias, c.QKNorm = false, false, false
	c.SlidingWindow = 0        // per layer, in Settings
	c.TieWordEmbeddings = true // Gemma's output head is its embedding table; checkpoints have no lm_head
	return s, nil
}

// roundTo rounds v to the torch dtype, as transformers casts the embedding
// normalizer to the weights' dtype.
func roundTo(dtype string, v float64) float64 {
	switch dtype {
	case "bfloat16":
		return float64(model.BF16ToF32(model.F32ToBF16(float32(v))))
	case "float16":
		return float64(model.F16ToF32(model.F32ToF16(float32(v))))
	}
	return float64(float32(v))
}

type layer struct {
	q, k, v, o                      model.Linear // q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden), o (hidden, heads*headDim)
	qNorm, kNorm                    model.Tensor // (headDim), Gemma 3 only
	inNorm, postAttn, preFF, postFF model.Tensor // (hidden)
	gate, up, down                  model.Linear // (intermediate, hidden), (hidden, intermediate)
}

// Model is the Gemma decoder over its bound tensors.
type Model struct {
	s      *Settings
	embed  model.Linear // (vocab, hidden), also the output head
	norm   model.Tensor // (hidden)
	layers []layer
	eps    float64
	rope   []model.Rope      // per layer
	attn   []model.Attention // per layer
}

// Build binds a Gemma 2 model.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	s, ok := c.Family.(*Settings)
	if !ok {
		return nil, fmt.Errorf("gemma: config was not configured by a Gemma family")
	}
	return BuildWith(c, b, s)
}

// BuildWith binds a Gemma model described by s.
func BuildWith(c *model.Config, b *model.Binder, s *Settings) (model.Definition, error) {
	m := &Model{s: s, eps: c.RMSNormEps, layers: make([]layer, c.NumHiddenLayers)}
	h, inter := c.HiddenSize, c.IntermediateSize
	qd, kd := c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim
	p := s.TextPrefix
	if err := b.Linear(&m.embed, p+"embed_tokens", c.VocabSize, h, false); err != nil {
		return nil, err
	}
	if err := b.Vector(&m.norm, p+"norm.weight", h); err != nil {
		return nil, err
	}
	for i := range m.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		L, lp := &m.layers[i], fmt.Sprintf("%slayers.%d.", p, i)
		for _, t := range []struct {
			dst     *model.Linear
			name    string
			out, in int
		}{
			{&L.q, "self_attn.q_proj", qd, h},
			{&L.k, "self_attn.k_proj", kd, h},
			{&L.v, "self_attn.v_proj", kd, h},
			{&L.o, "self_attn.o_proj", h, qd},
			{&L.gate, "mlp.gate_proj", inter, h},
			{&L.up, "mlp.up_proj", inter, h},
			{&L.down, "mlp.down_proj", h, inter},
		} {
			if err := b.Linear(t.dst, lp+t.name, t.out, t.in, false); err != nil {
				return nil, err
			}
		}
		vectors := []struct {
			dst  *model.Tensor
			name string
			n    int
		}{
			{&L.inNorm, "input_layernorm.weight", h},
			{&L.postAttn, "post_attention_layernorm.weight", h},
			{&L.preFF, "pre_feedforward_layernorm.weight", h},
			{&L.postFF, "post_feedforward_layernorm.weight", h},
		}
		if s.QKNorm {
			vectors = append(vectors, struct {
				dst  *model.Tensor
				name string
				n    int
			}{&L.qNorm, "self_attn.q_norm.weight", c.HeadDim}, struct {
				dst  *model.Tensor
				name string
				n    int
			}{&L.kNorm, "self_attn.k_norm.weight", c.HeadDim})
		}
		for _, t := range vectors {
			if err := b.Vector(t.dst, lp+t.name, t.n); err != nil {
				return nil, err
			}
		}
		freqs := s.GlobalFreqs
		a := model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(s.QueryPreAttnScalar), Softcap: s.AttnSoftcap}
		if s.Sliding[i] {
			a.Window = s.Window
			if s.LocalFreqs != nil {
				freqs = s.LocalFreqs
			}
		}
		m.attn = append(m.attn, a)
		m.rope = append(m.rope, model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: freqs})
	}
	return m, nil
}

func (m *Model) Layers() int { return len(m.layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Scale(o.Embed(&m.embed), m.s.EmbedScale) }

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.layers[l]
	h := o.RMSNorm(x, &L.inNorm, m.eps, 1)
	q, k, v := o.Linear3(h, &L.q, &L.k, &L.v)
	if m.s.QKNorm {
		q, k = o.RMSNorm(q, &L.qNorm, m.eps, 1), o.RMSNorm(k, &L.kNorm, m.eps, 1)
	}
	q, k = o.RoPE(q, &m.rope[l]), o.RoPE(k, &m.rope[l])
	a := o.Linear(o.Attention(l, q, k, v, &m.attn[l]), &L.o)
	x = o.Add(x, o.RMSNorm(a, &L.postAttn, m.eps, 1))

	h = o.RMSNorm(x, &L.preFF, m.eps, 1)
	f := model.GatedMLP(o, h, &L.gate, &L.up, &L.down, model.GELUTanh)
	return o.Add(x, o.RMSNorm(f, &L.postFF, m.eps, 1))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value { return o.RMSNorm(x, &m.norm, m.eps, 1) }

func (m *Model) Logits(o model.Ops, h model.Value) model.Value {
	y := o.Linear(h, &m.embed)
	if m.s.FinalSoftcap > 0 {
		y = o.Softcap(y, m.s.FinalSoftcap)
	}
	return y
}
