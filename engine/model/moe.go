package model

import (
	"fmt"
	"math"
	"slices"
)

// MoE is a sparse mixture-of-experts feed-forward block, as transformers'
// Qwen3MoeSparseMoeBlock and MixtralSparseMoeBlock compute it. For each row x:
//
//	logits = x·Routerᵀ                          (Experts)
//	p      = softmax(logits)
//	S      = the TopK experts of largest logit; on equal logits the lower index
//	         first (torch.topk's order on ties, which transformers inherits)
//	w_e    = p_e for e in S, divided by Σ_{e∈S} p_e when NormTopK
//	y      = Σ_{e∈S} w_e · Down_e(act(Gate_e·x) * Up_e·x)
//
// Softmax over the selected logits alone equals softmax-then-top-k with
// NormTopK (Mixtral's form); without it (Qwen3-MoE's norm_topk_prob=false)
// the weights keep the mass of the unselected experts out.
type MoE struct {
	Router   Linear   // (experts, hidden) the gate: one logit per expert
	Experts  []Expert // each with its own gated feed-forward
	TopK     int      // experts per token, ≤ len(Experts)
	NormTopK bool     // renormalise the selected experts' weights to sum to 1
	Act      Activation
	// Clamp, when set, replaces act(Gate·x) * Up·x by GPT-OSS's clamped
	// SwiGLU (Act is then unused); see Clamp.
	Clamp *Clamp
}

// Clamp is GPT-OSS's expert activation (GptOssExperts): with g = Gate·x
// (+ bias) and u = Up·x (+ bias),
//
//	g' = min(g, Limit),  u' = clamp(u, -Limit, Limit)
//	h  = (u' + 1) · g' · sigmoid(Alpha · g')
type Clamp struct{ Alpha, Limit float64 }

// Apply is the activation of one gate and up value, in float64.
func (c *Clamp) Apply(g, u float64) float64 {
	g = min(g, c.Limit)
	u = min(max(u, -c.Limit), c.Limit)
	return (u + 1) * g / (1 + math.Exp(-c.Alpha*g))
}

// Expert is one expert's gated feed-forward: Gate and Up (inter, hidden),
// Down (hidden, inter).
type Expert struct{ Gate, Up, Down Linear }

// ExpertLayout names an MoE block's expert tensors in both layouts a
// checkpoint may use: one module per expert (transformers' ModuleList,
// PerExpert(e) gives expert e's gate, up and down module paths), or mlx-lm's
// SwitchGLU, one (experts, out, in) tensor per projection (Stacked: the
// gate, up and down paths, e.g. "...mlp.switch_mlp.gate_proj").
type ExpertLayout struct {
	PerExpert func(e int) [3]string
	Stacked   [3]string
}

// MoE binds a sparse MoE block into dst: the router at router ((experts,
// hidden), no bias) and the experts in whichever layout the files hold. The
// caller sets TopK, NormTopK and Act. Stacked experts are cut into one
// Linear per expert that aliases the mapped tensor, so executors see the same
// layers in both layouts.
func (b *Binder) MoE(dst *MoE, router string, experts, hidden, inter int, names ExpertLayout) error {
	if experts <= 0 {
		return fmt.Errorf("%w: %s: %d experts", ErrWeights, router, experts)
	}
	if err := b.Linear(&dst.Router, router, experts, hidden, false); err != nil {
		return err
	}
	dst.Experts = make([]Expert, experts)
	shapes := [3][2]int{{inter, hidden}, {inter, hidden}, {hidden, inter}}
	if names.PerExpert == nil || b.Has(names.Stacked[0]+".weight") {
		for i, path := range names.Stacked {
			ls, err := b.binder.stacked(path, experts, shapes[i][0], shapes[i][1])
			if err != nil {
				return err
			}
			for e := range dst.Experts {
				p := dst.Experts[e].part(i)
				*p = ls[e]
				b.params.Linears = append(b.params.Linears, p)
			}
		}
	} else {
		for e := range dst.Experts {
			if err := b.Err(); err != nil {
				return err
			}
			paths := names.PerExpert(e)
			for i, path := range paths {
				if err := b.Linear(dst.Experts[e].part(i), path, shapes[i][0], shapes[i][1], false); err != nil {
					return err
				}
			}
		}
	}
	b.params.MoEs = append(b.params.MoEs, dst)
	return nil
}

func (e *Expert) part(i int) *Linear {
	return [3]*Linear{&e.Gate, &e.Up, &e.Down}[i]
}

// stacked binds an (n, out, in) projection, MLX-quantized when its scales
// exist, and cuts it into n (out, in) layers.
func (b *binder) stacked(path string, n, out, in int) ([]Linear, error) {
	if q, ok := b.quant.For(path); ok && q.Mode == "mxfp4" && b.files.Has(path+".scales") {
		return b.stackedMXFP4(path, n, out, in)
	}
	var whole Linear
	if b.files.Has(path + ".scales") {
		q, ok := b.quant.For(path)
		if !ok {
			return nil, fmt.Errorf("%w: %s.scales exists but config.json does not quantize %s", ErrWeights, path, path)
		}
		if in%q.GroupSize != 0 || in*q.Bits%32 != 0 {
			return nil, fmt.Errorf("%w: %s: input size %d does not fit %d-bit groups of %d", ErrWeights, path, in, q.Bits, q.GroupSize)
		}
		w, err := b.tensor(path+".weight", n, out, in*q.Bits/32)
		if err != nil {
			return nil, fmt.Errorf("%w (%d-bit quantized, groups of %d)", err, q.Bits, q.GroupSize)
		}
		if w.DType != U32 {
			return nil, fmt.Errorf("%w: tensor %s is %s, want U32 codes", ErrWeights, w.Name, w.DType)
		}
		scales, err := b.float(path+".scales", n, out, in/q.GroupSize)
		if err != nil {
			return nil, err
		}
		biases, err := b.float(path+".biases", n, out, in/q.GroupSize)
		if err != nil {
			return nil, err
		}
		whole = Linear{Weight: w, Scales: &scales, Biases: &biases, Bits: q.Bits, GroupSize: q.GroupSize}
	} else {
		w, err := b.float(path+".weight", n, out, in)
		if err != nil {
			return nil, err
		}
		whole.Weight = w
	}
	ls := make([]Linear, n)
	for e := range ls {
		ls[e] = expertSlice(whole, e, n)
	}
	return ls, nil
}

// expertSlice is expert e of n of a stacked layer: every tensor holds the
// experts one after the other, each a contiguous (out, ...) block.
func expertSlice(l Linear, e, n int) Linear {
	cut := func(t Tensor) Tensor {
		per := len(t.Data) / n
		t.Data = t.Data[e*per : (e+1)*per : (e+1)*per]
		t.Shape = slices.Clone(t.Shape[1:])
		t.Name = fmt.Sprintf("%s[%d]", t.Name, e)
		return t
	}
	l.Weight = cut(l.Weight)
	cutScales(&l, cut)
	return l
}

// ActiveFraction is the share of m's expert weights one token reads: TopK of
// the experts.
func (m *MoE) ActiveFraction() float64 {
	if len(m.Experts) == 0 {
		return 1
	}
	return float64(m.TopK) / float64(len(m.Experts))
}

// SparseCounter is implemented by the Config.Family of sparse families: how
// many parameters one decoded token reads (the output head whole, one row of
// the embedding table, TopK experts of each block) and how many there are.
type SparseCounter interface {
	Active(c *Config) (active, total int64)
}
