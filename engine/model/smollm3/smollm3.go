// Package smollm3 is SmolLM3ForCausalLM (HuggingFace SmolLM3): Llama's tensors
// and blocks, except that some layers use no rotary embedding at all (NoPE).
// config.json's no_rope_layers lists, per layer, 1 for RoPE and 0 for none
// (by default every fourth layer is NoPE); transformers' modeling_smollm3.py
// gives a NoPE layer a sliding window only when use_sliding_window is set and
// layer_types marks it sliding_attention.
package smollm3

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

func init() {
	model.Register(model.Arch{Name: "SmolLM3ForCausalLM", Configure: configure, Build: Build})
}

// layout is what SmolLM3 adds to the Llama config: per layer, RoPE or not,
// and the window of the layers that slide (0 for full attention).
type layout struct {
	rope   []bool
	window []int
}

func configure(c *model.Config, raw []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	var r struct {
		NoRopeLayers     []int    `json:"no_rope_layers"`
		NoRopeInterval   *int     `json:"no_rope_layer_interval"`
		UseSlidingWindow bool     `json:"use_sliding_window"`
		SlidingWindow    *int     `json:"sliding_window"`
		LayerTypes       []string `json:"layer_types"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	n := c.NumHiddenLayers
	lay := layout{rope: make([]bool, n), window: make([]int, n)}
	switch {
	case r.NoRopeLayers != nil:
		if len(r.NoRopeLayers) != n {
			return fmt.Errorf("%d no_rope_layers for %d layers", len(r.NoRopeLayers), n)
		}
		for l, v := range r.NoRopeLayers {
			lay.rope[l] = v != 0
		}
	default:
		interval := 4
		if r.NoRopeInterval != nil {
			interval = *r.NoRopeInterval
		}
		if interval <= 0 {
			return fmt.Errorf("no_rope_layer_interval is %d", interval)
		}
		for l := range lay.rope {
			lay.rope[l] = (l+1)%interval != 0
		}
	}
	if r.LayerTypes != nil && len(r.LayerTypes) != n {
		return fmt.Errorf("%d layer_types for %d layers", len(r.LayerTypes), n)
	}
	if r.UseSlidingWindow && r.SlidingWindow != nil {
		if *r.SlidingWindow <= 0 {
			return fmt.Errorf("sliding_window is %d", *r.SlidingWindow)
		}
		for l := range lay.window {
			sliding := !lay.rope[l] // SmolLM3Config's layer_types default
			if r.LayerTypes != nil {
				sliding = r.LayerTypes[l] == "sliding_attention"
			}
			if sliding {
				lay.window[l] = *r.SlidingWindow
			}
		}
	}
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = false
	c.SlidingWindow = 0 // per layer, in the layout
	c.Family = lay
	return nil
}

// Model runs SmolLM3 over the tensors llama.Build binds, kept unexported so
// that executors reading the Llama layout directly cannot run it as Llama.
type Model struct {
	base *llama.Model
	lay  layout
	eps  float64
	rope model.Rope
	attn []model.Attention // per layer: the windows differ
}

// Build binds SmolLM3's tensors.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	lay, ok := c.Family.(layout)
	if !ok {
		return nil, fmt.Errorf("smollm3: config was not configured by this family")
	}
	def, err := llama.Build(c, b)
	if err != nil {
		return nil, err
	}
	m := &Model{base: def.(*llama.Model), lay: lay, eps: c.RMSNormEps,
		rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)}}
	for l := range lay.window {
		m.attn = append(m.attn, model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads,
			HeadDim: c.HeadDim, Scale: 1 / math.Sqrt(float64(c.HeadDim)), Window: lay.window[l]})
	}
	return m, nil
}

func (m *Model) w() *llama.Weights { return m.base.Weights() }

func (m *Model) Layers() int { return len(m.w().Layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Embed(&m.w().Embed) }

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.w().Layers[l]
	a := m.base.SelfAttention(l)
	a.Rope, a.Attn = &m.rope, &m.attn[l]
	if !m.lay.rope[l] {
		a.Rope = nil // NoPE
	}
	x = o.Add(x, a.Forward(o, l, x))

	h := o.RMSNorm(x, &L.MLPNorm, m.eps, 0)
	return o.Add(x, model.GatedMLP(o, h, &L.Gate, &L.Up, &L.Down, model.SiLU))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value {
	return o.RMSNorm(x, &m.w().Norm, m.eps, 0)
}

func (m *Model) Logits(o model.Ops, h model.Value) model.Value { return o.Linear(h, &m.w().LMHead) }
