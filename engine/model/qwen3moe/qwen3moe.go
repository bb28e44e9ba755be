// Package qwen3moe registers Qwen3MoeForCausalLM: Qwen3's attention (per-head
// q/k norms before RoPE) with a sparse mixture of experts in place of the MLP
// on every layer l where (l+1) % decoder_sparse_step == 0 and l is not in
// mlp_only_layers; the other layers keep a dense MLP of intermediate_size.
// The router is mlp.gate, the experts mlp.experts.N.{gate,up,down}_proj of
// moe_intermediate_size, or mlx-lm's stacked mlp.switch_mlp.*.
//
// Its forward pass (Model) also runs MixtralForCausalLM (engine/model/mixtral),
// which differs only in names, in always renormalising the top-k weights and
// in having neither q/k norms nor dense layers.
package qwen3moe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/qwen2"
)

func init() {
	model.Register(model.Arch{Name: "Qwen3MoeForCausalLM", Configure: configure, Build: Build})
}

// Sparse is what a family's Configure read about its experts (Config.Family).
type Sparse struct {
	Experts   int    // num_experts / num_local_experts
	TopK      int    // num_experts_per_tok
	Inter     int    // each expert's intermediate size
	NormTopK  bool   // renormalise the selected experts' weights
	MoELayers []bool // per layer: sparse block (true) or dense MLP
	Names     Names
}

// Names are a family's module paths inside layer i's prefix.
type Names struct {
	Block    string    // the sparse block's module: "mlp." or "block_sparse_moe."
	Router   string    // relative to Block: "gate"
	Expert   [3]string // gate, up, down inside "experts.N." ("gate_proj", ... or "w1", "w3", "w2")
	Switch   [3]string // mlx-lm's stacked gate, up, down inside "switch_mlp."
	DenseMLP string    // the dense MLP's module: "mlp."
}

// QwenNames are Qwen3-MoE's (and Qwen2-MoE's) module names.
var QwenNames = Names{Block: "mlp.", Router: "gate", Expert: [3]string{"gate_proj", "up_proj", "down_proj"},
	Switch: [3]string{"gate_proj", "up_proj", "down_proj"}, DenseMLP: "mlp."}

// Active is how many of the model's parameters one token reads, and the total.
func (s *Sparse) Active(c *model.Config) (active, total int64) {
	h := int64(c.HiddenSize)
	q, kv := int64(c.NumAttentionHeads*c.HeadDim), int64(c.NumKeyValueHeads*c.HeadDim)
	embed := int64(c.VocabSize) * h
	// Decode reads one row of the embedding table and the whole output head.
	total, active = embed+h, embed+h // the final norm too
	if !c.TieWordEmbeddings {
		total += embed
	}
	for _, moe := range s.MoELayers {
		attn := 2*h*q + 2*h*kv + 2*h
		if c.QKNorm {
			attn += 2 * int64(c.HeadDim)
		}
		total, active = total+attn, active+attn
		if moe {
			expert := 3 * h * int64(s.Inter)
			total += int64(s.Experts)*expert + int64(s.Experts)*h
			active += int64(s.TopK)*expert + int64(s.Experts)*h
		} else {
			dense := 3 * h * int64(c.IntermediateSize)
			total, active = total+dense, active+dense
		}
	}
	return active, total
}

type rawQwen struct {
	NumExperts        *int  `json:"num_experts"`
	NumExpertsPerTok  *int  `json:"num_experts_per_tok"`
	MoEIntermediate   *int  `json:"moe_intermediate_size"`
	NormTopKProb      *bool `json:"norm_topk_prob"`
	DecoderSparseStep *int  `json:"decoder_sparse_step"`
	MLPOnlyLayers     []int `json:"mlp_only_layers"`
}

// configure reads Qwen3MoeConfig's keys with its defaults (128 experts, 8 per
// token, 768 each, norm_topk_prob false, every layer sparse).
func configure(c *model.Config, raw []byte) error {
	if err := llama.Check(c); err != nil {
		return err
	}
	if err := qwen2.CheckSlidingWindow(c, raw); err != nil {
		return err
	}
	var r rawQwen
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	or := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	s := &Sparse{Experts: or(r.NumExperts, 128), TopK: or(r.NumExpertsPerTok, 8), Inter: or(r.MoEIntermediate, 768),
		NormTopK: r.NormTopKProb != nil && *r.NormTopKProb, Names: QwenNames}
	step := or(r.DecoderSparseStep, 1)
	if step <= 0 {
		return fmt.Errorf("decoder_sparse_step %d", step)
	}
	s.MoELayers = make([]bool, c.NumHiddenLayers)
	for l := range s.MoELayers {
		s.MoELayers[l] = !slices.Contains(r.MLPOnlyLayers, l) && s.Experts > 0 && (l+1)%step == 0
	}
	c.QKVBias, c.OBias = c.AttentionBias, c.AttentionBias
	c.QKNorm = true
	c.MLPBias = false
	c.Family = s
	return s.Check(c)
}

// Check rejects expert settings no forward pass can run.
func (s *Sparse) Check(c *model.Config) error {
	if slices.Contains(s.MoELayers, true) {
		switch {
		case s.TopK <= 0 || s.TopK > s.Experts:
			return fmt.Errorf("num_experts_per_tok %d for %d experts", s.TopK, s.Experts)
		case s.Experts > 1<<12:
			return fmt.Errorf("%d experts", s.Experts)
		case s.Inter <= 0 || s.Inter > 1<<20:
			return fmt.Errorf("expert intermediate size %d", s.Inter)
		}
	}
	if slices.Contains(s.MoELayers, false) && c.IntermediateSize <= 0 {
		return errors.New("dense layers without intermediate_size")
	}
	return nil
}

// Layer holds one block's weights: a dense MLP or a sparse MoE.
type Layer struct {
	AttnNorm     model.Tensor  // (hidden)
	Q, K, V, O   model.Linear  // q (heads*headDim, hidden), k/v (kvHeads*headDim, hidden), o (hidden, heads*headDim)
	QNorm, KNorm *model.Tensor // (headDim); nil without q/k norms
	MLPNorm      model.Tensor  // (hidden) post_attention_layernorm
	Gate, Up     model.Linear  // (intermediate, hidden); dense layers only
	Down         model.Linear  // (hidden, intermediate); dense layers only
	MoE          *model.MoE    // nil on dense layers
}

// Model is the sparse decoder: Llama's pre-norm blocks with a MoE feed-forward.
type Model struct {
	embed, head model.Linear
	norm        model.Tensor
	layers      []Layer
	eps         float64
	rope        model.Rope
	attn        model.Attention
}

// Build binds a sparse decoder described by c.Family (*Sparse).
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	s, ok := c.Family.(*Sparse)
	if !ok {
		return nil, fmt.Errorf("%w: %v: no expert settings", model.ErrInvalidConfig, c.Architectures)
	}
	m := &Model{
		eps:  c.RMSNormEps,
		rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim, Freqs: model.RopeFreqs(c)},
		attn: model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim)), Window: c.SlidingWindow},
	}
	if err := b.Outer(c, model.HFOuter, c.TieWordEmbeddings, &m.embed, &m.norm, &m.head); err != nil {
		return nil, err
	}
	m.layers = make([]Layer, c.NumHiddenLayers)
	for i := range m.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		if err := bindLayer(b, &m.layers[i], fmt.Sprintf("model.layers.%d.", i), c, s, s.MoELayers[i]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func bindLayer(b *model.Binder, l *Layer, p string, c *model.Config, s *Sparse, moe bool) error {
	h := c.HiddenSize
	a := model.SelfAttention{Norm: &l.AttnNorm, Q: &l.Q, K: &l.K, V: &l.V, O: &l.O}
	if err := b.BindSelfAttention(&a, p, c); err != nil {
		return err
	}
	l.QNorm, l.KNorm = a.QNorm, a.KNorm
	if err := b.Vector(&l.MLPNorm, p+"post_attention_layernorm.weight", h); err != nil {
		return err
	}
	if !moe {
		d := p + s.Names.DenseMLP
		inter := c.IntermediateSize
		if err := b.Linear(&l.Gate, d+"gate_proj", inter, h, false); err != nil {
			return err
		}
		if err := b.Linear(&l.Up, d+"up_proj", inter, h, false); err != nil {
			return err
		}
		return b.Linear(&l.Down, d+"down_proj", h, inter, false)
	}
	n := s.Names
	blk := p + n.Block
	l.MoE = &model.MoE{TopK: s.TopK, NormTopK: s.NormTopK, Act: model.SiLU}
	return b.MoE(l.MoE, blk+n.Router, s.Experts, h, s.Inter, model.ExpertLayout{
		PerExpert: func(e int) [3]string {
			pe := fmt.Sprintf("%sexperts.%d.", blk, e)
			return [3]string{pe + n.Expert[0], pe + n.Expert[1], pe + n.Expert[2]}
		},
		Stacked: [3]string{blk + "switch_mlp." + n.Switch[0], blk + "switch_mlp." + n.Switch[1], blk + "switch_mlp." + n.Switch[2]},
	})
}

func (m *Model) Layers() int { return len(m.layers) }

func (m *Model) Embed(o model.Ops) model.Value { return o.Embed(&m.embed) }

func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	L := &m.layers[l]
	a := model.SelfAttention{Norm: &L.AttnNorm, Q: &L.Q, K: &L.K, V: &L.V, O: &L.O, QNorm: L.QNorm, KNorm: L.KNorm,
		Eps: m.eps, Rope: &m.rope, Attn: &m.attn}
	x = o.Add(x, a.Forward(o, l, x))

	h := o.RMSNorm(x, &L.MLPNorm, m.eps, 0)
	if L.MoE != nil {
		return o.Add(x, o.MoE(h, L.MoE))
	}
	return o.Add(x, model.GatedMLP(o, h, &L.Gate, &L.Up, &L.Down, model.SiLU))
}

func (m *Model) Norm(o model.Ops, x model.Value) model.Value {
	return o.RMSNorm(x, &m.norm, m.eps, 0)
}

func (m *Model) Logits(o model.Ops, h model.Value) model.Value { return o.Linear(h, &m.head) }

var _ model.SparseCounter = (*Sparse)(nil)
