// Package llama is LlamaForCausalLM: Llama 2, Llama 3 and 3.x (with llama3
// rope scaling), SmolLM2, TinyLlama and the many fine-tunes sharing the
// layout. attention_bias adds biases to q, k, v and o; mlp_bias to the MLP.
//
// Its forward pass (Model) also runs Mistral, Qwen2 and Qwen3, which differ
// only in the layout flags their Configure sets (biases, q/k norms, window).
package llama

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	model.Register(model.Arch{Name: "LlamaForCausalLM", Configure: configure, Build: Build})
}

func configure(c *model.Config, _ []byte) error {
	if err := Check(c); err != nil {
		return err
	}
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = false
	c.SlidingWindow = 0 // Llama attends to the whole context
	return nil
}

// Check rejects what the Llama-layout forward pass does not compute: an
// activation other than SiLU and longrope scaling. Mistral, Qwen2 and Qwen3
// call it from their Configure too.
func Check(c *model.Config) error {
	if c.HiddenAct != "silu" {
		return fmt.Errorf("hidden_act %q is not supported (silu is)", c.HiddenAct)
	}
	if c.RopeScaling != nil && c.RopeScaling.Type == "longrope" {
		return fmt.Errorf("rope_scaling longrope is not supported for %v (llama3 and linear are)", c.Architectures)
	}
	if c.RopeScaling != nil && c.RopeScaling.Type == "mrope" {
		return fmt.Errorf("rope_scaling mrope is not supported for %v (Qwen2-VL's families read it)", c.Architectures)
	}
	if c.RopeScaling != nil && c.RopeScaling.Type == "yarn" {
		return fmt.Errorf("rope_scaling yarn is not supported for %v (llama3 and linear are)", c.Architectures)
	}
	return nil
}

// Tensor names, Hugging Face's: module paths to which the binder adds
// ".weight", ".bias" or, for MLX-quantized layers, ".scales" and ".biases".
const (
	embedName = "model.embed_tokens"
	normName  = "model.norm"
	headName  = "lm_head"
	layerName = "model.layers.%d."
)

// Layer holds one transformer block's weights.
type Layer struct {
	AttnNorm   model.Tensor  // (hidden) input_layernorm
	Q, K, V, O model.Linear  // q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden), o (hidden, heads*headDim)
	QNorm      *model.Tensor // (headDim) per-head RMSNorm on q (Qwen3); nil when absent
	KNorm      *model.Tensor // (headDim) per-head RMSNorm on k (Qwen3); nil when absent
	MLPNorm    model.Tensor  // (hidden) post_attention_layernorm
	Gate, Up   model.Linear  // (intermediate, hidden)
	Down       model.Linear  // (hidden, intermediate)
}

// Weights are every parameter of a Llama-layout decoder.
type Weights struct {
	Embed  model.Linear // (vocab, hidden) embed_tokens; a row lookup, possibly quantized
	Layers []Layer
	Norm   model.Tensor // (hidden) final norm
	LMHead model.Linear // (vocab, hidden); the same tensors as Embed when embeddings are tied
}

// Model is the Llama decoder: pre-norm attention and SwiGLU MLP blocks, each
// added to the residual stream (HF's LlamaDecoderLayer).
type Model struct {
	w    Weights
	eps  float64
	rope model.Rope
	attn model.Attention
}

// Build binds a Llama-layout model: q/k/v biases when c.QKVBias, o bias when
// c.OBias, MLP biases when c.MLPBias, per-head q/k norms when c.QKNorm, and a
// sliding window when c.SlidingWindow is set.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	m := &Model{
		eps:  c.RMSNormEps,
		rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)},
		attn: model.Attention{
			Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim)), Window: c.SlidingWindow,
		},
	}
	w := &m.w
	// A bare base model (Qwen3-Embedding saves Qwen3Model) has no "model."
	// prefix and no lm_head: its hidden states are all it is for.
	bare := !b.Has(embedName+".weight") && b.Has(strings.TrimPrefix(embedName, "model.")+".weight")
	name := func(n string) string {
		if bare {
			return strings.TrimPrefix(n, "model.")
		}
		return n
	}
	names := model.OuterNames{Embed: name(embedName), Norm: name(normName), Head: headName}
	tied := c.TieWordEmbeddings || (bare && !b.Has(headName+".weight"))
	if err := b.Outer(c, names, tied, &w.Embed, &w.Norm, &w.LMHead); err != nil {
		return nil, err
	}
	w.Layers = make([]Layer, c.NumHiddenLayers)
	for i := range w.Layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		if err := bindLayer(b, &w.Layers[i], name(fmt.Sprintf(layerName, i)), c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func newModel(c *model.Config) *Model {
	return &Model{
		eps:  c.RMSNormEps,
		rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)},
		attn: model.Attention{
			Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim)), Window: c.SlidingWindow,
		},
	}
}

func bindLayer(b *model.Binder, l *Layer, p string, c *model.Config) error {
	a := model.SelfAttention{Norm: &l.AttnNorm, Q: &l.Q, K: &l.K, V: &l.V, O: &l.O}
	if err := b.BindSelfAttention(&a, p, c); err != nil {
		return err
	}
	l.QNorm, l.KNorm = a.QNorm, a.KNorm
	h, inter := c.HiddenSize, c.IntermediateSize
	return errors.Join(
		b.Linear(&l.Gate, p+"mlp.gate_proj", inter, h, c.MLPBias),
		b.Linear(&l.Up, p+"mlp.up_proj", inter, h, c.MLPBias),
		b.Linear(&l.Down, p+"mlp.down_proj", h, inter, c.MLPBias),
		b.Vector(&l.MLPNorm, p+"post_attention_layernorm.weight", h))
}

// Weights are the bound tensors, for tests that change them.
func (m *Model) Weights() *Weights { return &m.w }

func (m *Model) Layers() int { return len(m.w.Layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Embed(&m.w.Embed) }

// SelfAttention is layer l's attention sublayer over its bound tensors,
// with Qwen3's per-head q/k norms when the layer has them. Granite and
// SmolLM3, which run over these tensors, change its rope and attention.
func (m *Model) SelfAttention(l int) model.SelfAttention {
	L := &m.w.Layers[l]
	return model.SelfAttention{Norm: &L.AttnNorm, Q: &L.Q, K: &L.K, V: &L.V, O: &L.O, QNorm: L.QNorm, KNorm: L.KNorm,
		Eps: m.eps, Rope: &m.rope, Attn: &m.attn}
}

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.w.Layers[l]
	a := m.SelfAttention(l)
	x = o.Add(x, a.Forward(o, l, x))

	h := o.RMSNorm(x, &L.MLPNorm, m.eps, 0)
	return o.Add(x, model.GatedMLP(o, h, &L.Gate, &L.Up, &L.Down, model.SiLU))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value {
	return o.RMSNorm(x, &m.w.Norm, m.eps, 0)
}

func (m *Model) Logits(o model.Ops, h model.Value) model.Value { return o.Linear(h, &m.w.LMHead) }

// FromWeights is the forward pass over weights built elsewhere (executor
// tests that make weights in memory), with the config's rope and attention;
// QKNorm follows the weights.
func FromWeights(c *model.Config, w Weights) (*Model, model.Params) {
	m := newModel(c)
	m.w = w
	m.w.Layers = append([]Layer(nil), w.Layers...)
	var p model.Params
	p.Linears = append(p.Linears, &m.w.Embed)
	p.Vectors = append(p.Vectors, &m.w.Norm)
	for i := range m.w.Layers {
		L := &m.w.Layers[i]
		p.Linears = append(p.Linears, &L.Q, &L.K, &L.V, &L.O, &L.Gate, &L.Up, &L.Down)
		p.Vectors = append(p.Vectors, &L.AttnNorm, &L.MLPNorm)
		if L.QNorm != nil {
			p.Vectors = append(p.Vectors, L.QNorm, L.KNorm)
		}
	}
	p.Linears = append(p.Linears, &m.w.LMHead)
	return m, p
}
