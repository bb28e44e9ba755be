package enginetest

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

// The ops family is no real architecture: it runs Qwen3's tensors (written by
// modeltest as Arch "opstest") through every operation of model.Ops and every
// variant of their descriptors, so that each executor's implementation of
// the operations the Llama-layout families do not use (offset norms, LayerNorm,
// partial and long-factor RoPE, layers without RoPE, soft-capped and
// sliding-window attention, GELU-tanh, Mul, Scale, Softcap) is checked
// against the reference by the same suite. Registered here, it exists only in
// test binaries, which are the only importers of this package.
const opsArch = "EngineTestOpsForCausalLM"

func init() {
	model.Register(model.Arch{Name: opsArch, Build: buildOps})
}

// opsModel alternates two kinds of layers, as Gemma alternates sliding and
// global ones.
type opsModel struct {
	w      *llama.Weights
	eps    float64
	rope   model.Rope         // even layers: half the head rotated, long factors from position 6, scaled
	attn   [2]model.Attention // even: window 5, soft-capped, odd: global
	layers int
}

func buildOps(c *model.Config, b *model.Binder) (model.Definition, error) {
	// The tensors are Qwen3's: bind them with its layout, then run them differently.
	c.QKNorm = true
	def, err := llama.Build(c, b)
	if err != nil {
		return nil, err
	}
	hd := c.HeadDim
	dims := hd / 2
	short := model.RopeFreqsFor(c.RopeTheta, dims, nil)
	long := make([]float64, len(short))
	for i, f := range short {
		long[i] = f / (1 + float64(i)) // longrope divides each frequency by its own factor
	}
	m := &opsModel{
		w: def.(*llama.Model).Weights(), eps: c.RMSNormEps, layers: c.NumHiddenLayers,
		rope: model.Rope{HeadDim: hd, Dims: dims, Freqs: short, LongFreqs: long, LongFrom: 6, Scale: 1.1},
	}
	base := model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: hd}
	m.attn[0], m.attn[1] = base, base
	m.attn[0].Scale, m.attn[0].Window, m.attn[0].Softcap = 0.3, 5, 2
	m.attn[1].Scale = 1 / math.Sqrt(float64(hd))
	if c.NumHiddenLayers < 2 {
		return nil, fmt.Errorf("%s needs 2 layers to alternate, has %d", opsArch, c.NumHiddenLayers)
	}
	return m, nil
}

func (m *opsModel) Layers() int { return m.layers }

func (m *opsModel) Embed(o model.Ops) model.Value { return o.Scale(o.Embed(&m.w.Embed), 1.5) }

func (m *opsModel) Layer(o model.Ops, l int, x model.Value) model.Value {
	L, kind := &m.w.Layers[l], l%2
	h := o.RMSNorm(x, &L.AttnNorm, m.eps, 1) // Gemma's (1 + w)
	q, k, v := o.Linear3(h, &L.Q, &L.K, &L.V)
	q, k = o.RMSNorm(q, L.QNorm, m.eps, 0), o.RMSNorm(k, L.KNorm, m.eps, 0)
	if kind == 0 { // odd layers have no RoPE, as SmolLM3's no_rope_layers
		q, k = o.RoPE(q, &m.rope), o.RoPE(k, &m.rope)
	}
	a := o.Linear(o.Attention(l, q, k, v, &m.attn[kind]), &L.O)
	x = o.Add(x, o.Scale(a, 0.8)) // Granite's residual multiplier

	h = o.LayerNorm(x, &L.MLPNorm, nil, m.eps)
	g, u := o.Linear2(h, &L.Gate, &L.Up)
	act := model.SiLU
	if kind == 0 {
		act = model.GELUTanh
	}
	f := o.Linear(o.GLU(g, u, act), &L.Down)
	return o.Add(x, o.Mul(f, o.Softcap(h, 1)))
}

func (m *opsModel) Norm(o model.Ops, x model.Value) model.Value {
	return o.RMSNorm(x, &m.w.Norm, m.eps, 1)
}

func (m *opsModel) Logits(o model.Ops, h model.Value) model.Value {
	return o.Softcap(o.Scale(o.Linear(h, &m.w.LMHead), 0.5), 10)
}
