package model

import "errors"

// What the decoder families share, written once: the weights around the
// layers (token embedding, final norm, output head) and the self-attention
// sublayer of the pre-norm blocks. A family keeps its tensors in its own
// structs and points these helpers at them, so that its quirks (Granite's
// multipliers, SmolLM3's layers without RoPE, Phi-3's fused projections)
// stay in its package.

// OuterNames are the module paths of a decoder's outer weights.
type OuterNames struct{ Embed, Norm, Head string }

// HFOuter are the names transformers' *ForCausalLM checkpoints use.
var HFOuter = OuterNames{Embed: "model.embed_tokens", Norm: "model.norm", Head: "lm_head"}

// Outer binds the embedding table (vocab, hidden) into embed first (Model.DType
// reads it), the final norm's weight (hidden) into norm, and the output head
// (vocab, hidden) into head: its own tensors, or the embedding's when tied.
func (b *Binder) Outer(c *Config, n OuterNames, tied bool, embed *Linear, norm *Tensor, head *Linear) error {
	h := c.HiddenSize
	if err := b.Linear(embed, n.Embed, c.VocabSize, h, false); err != nil {
		return err
	}
	if err := b.Vector(norm, n.Norm+".weight", h); err != nil {
		return err
	}
	if tied {
		b.Tie(head, embed)
		return nil
	}
	return b.Linear(head, n.Head, c.VocabSize, h, false)
}

// SelfAttention is one pre-norm block's attention sublayer, as Llama and the
// families built on its layout compute it: input_layernorm (RMSNorm) of the
// residual stream, the q, k and v projections, per-head RMSNorms of q and k
// (Qwen3) when QNorm is set, RoPE unless Rope is nil, attention over the
// layer's cache, and o_proj. Its fields point at the family's bound tensors
// and descriptors.
type SelfAttention struct {
	Norm         *Tensor // (hidden) input_layernorm
	Q, K, V, O   *Linear // q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden), o (hidden, heads*headDim)
	QNorm, KNorm *Tensor // (headDim); nil: none
	Eps          float64 // of every RMSNorm here
	Rope         *Rope   // nil: the layer has no rotary embedding (NoPE)
	Attn         *Attention
}

// BindSelfAttention binds block p's (a "model.layers.N." prefix) Llama-named
// attention tensors into a's pointees: self_attn.{q,k,v}_proj with biases
// when c.QKVBias, o_proj with one when c.OBias, input_layernorm, and, when
// c.QKNorm, the per-head self_attn.q_norm and k_norm, which it allocates.
func (b *Binder) BindSelfAttention(a *SelfAttention, p string, c *Config) error {
	q, kv, h := c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim, c.HiddenSize
	err := errors.Join(
		b.Linear(a.Q, p+"self_attn.q_proj", q, h, c.QKVBias),
		b.Linear(a.K, p+"self_attn.k_proj", kv, h, c.QKVBias),
		b.Linear(a.V, p+"self_attn.v_proj", kv, h, c.QKVBias),
		b.Linear(a.O, p+"self_attn.o_proj", h, q, c.OBias),
		b.Vector(a.Norm, p+"input_layernorm.weight", h))
	if err != nil || !c.QKNorm {
		return err
	}
	a.QNorm, a.KNorm = new(Tensor), new(Tensor)
	return errors.Join(b.Vector(a.QNorm, p+"self_attn.q_norm.weight", c.HeadDim),
		b.Vector(a.KNorm, p+"self_attn.k_norm.weight", c.HeadDim))
}

// Forward returns the sublayer's output for the residual stream x of layer
// l; the family adds it to x (scaled, normed, as it does).
func (s *SelfAttention) Forward(o Ops, l int, x Value) Value {
	h := o.RMSNorm(x, s.Norm, s.Eps, 0)
	q, k, v := o.Linear3(h, s.Q, s.K, s.V)
	if s.QNorm != nil {
		q = o.RMSNorm(q, s.QNorm, s.Eps, 0)
		k = o.RMSNorm(k, s.KNorm, s.Eps, 0)
	}
	if s.Rope != nil {
		q, k = o.RoPE(q, s.Rope), o.RoPE(k, s.Rope)
	}
	return o.Linear(o.Attention(l, q, k, v, s.Attn), s.O)
}

// GatedMLP is the gated feed-forward of the decoder families and NomicBERT:
// down(act(gate(x)) * up(x)), gate and up run as one step (Linear2). act is
// SiLU for SwiGLU, GELUTanh for Gemma's GeGLU.
func GatedMLP(o Ops, x Value, gate, up, down *Linear, act Activation) Value {
	g, u := o.Linear2(x, gate, up)
	return o.Linear(o.GLU(g, u, act), down)
}
