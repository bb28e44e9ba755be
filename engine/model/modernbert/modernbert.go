// Package modernbert registers ModernBertModel (answerdotai/ModernBERT-base's
// encoder, and the embedding models built on it: nomic-ai/modernbert-embed-base,
// Alibaba-NLP/gte-modernbert-base) as transformers' modeling_modernbert.py
// computes it: token embeddings and a LayerNorm, no position or token type
// rows; pre-norm blocks whose first one has no attention norm; one fused
// Wqkv projection with rotary q and k; attention that alternates between
// global layers (every global_attn_every_n_layers-th, from the first) and
// local ones, where a token sees the tokens within local_attention/2
// positions on either side, each kind with its own RoPE base; a GeGLU
// feed-forward whose Wi holds the input and the gate; LayerNorms without
// bias; a final norm. A ModernBertForMaskedLM checkpoint's encoder loads
// the same way (its "model." names); the MLM head is not run.
// ModernBertForSequenceClassification (cross-encoders such as
// Alibaba-NLP/gte-reranker-modernbert-base) adds its head: the first token's
// state or the mean of all (classifier_pooling), then dense, the
// classifier activation, a norm, and the classifier.
package modernbert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	for _, name := range []string{"ModernBertModel", "ModernBertForMaskedLM", "ModernBertForSequenceClassification"} {
		model.Register(model.Arch{Name: name, Configure: configure, Build: Build})
	}
}

// Config is what the family reads from config.json beyond model.Config.
type Config struct {
	Eps      float64 // norm_eps
	NormBias bool    // norm_bias: the LayerNorms have a bias
	Global   []bool  // per layer: full attention (else local)
	Radius   int     // local_attention / 2: a local query sees keys this far away
	// GlobalTheta and LocalTheta are the RoPE bases of the two kinds of layer.
	GlobalTheta, LocalTheta float64
	// The classification head of ModernBertForSequenceClassification;
	// Labels 0 for the other architectures.
	Labels   int
	MeanPool bool // classifier_pooling "mean" (else "cls")
	HeadBias bool // classifier_bias: head.dense's bias
}

// rawConfig holds ModernBertConfig's keys; pointers tell absent from zero.
type rawConfig struct {
	NormEps          *float64          `json:"norm_eps"`
	NormBias         bool              `json:"norm_bias"`
	AttentionBias    bool              `json:"attention_bias"`
	MLPBias          bool              `json:"mlp_bias"`
	HiddenActivation *string           `json:"hidden_activation"`
	GlobalEvery      *int              `json:"global_attn_every_n_layers"`
	LocalAttention   *int              `json:"local_attention"`
	GlobalRopeTheta  *float64          `json:"global_rope_theta"`
	LocalRopeTheta   *float64          `json:"local_rope_theta"`
	LayerTypes       []string          `json:"layer_types"`
	RopeScaling      any               `json:"rope_scaling"`
	Architectures    []string          `json:"architectures"`
	NumLabels        *int              `json:"num_labels"`
	ID2Label         map[string]string `json:"id2label"`
	ClassifierPool   *string           `json:"classifier_pooling"`
	ClassifierAct    *string           `json:"classifier_activation"`
	ClassifierBias   bool              `json:"classifier_bias"`
	// RopeParameters is transformers 5's form: {"full_attention": {...},
	// "sliding_attention": {...}}.
	RopeParameters map[string]struct {
		Type  string   `json:"rope_type"`
		Theta *float64 `json:"rope_theta"`
	} `json:"rope_parameters"`
}

func configure(c *model.Config, raw []byte) error {
	var r rawConfig
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	switch {
	case r.AttentionBias || r.MLPBias:
		return errors.New("attention_bias and mlp_bias are not supported: the released checkpoints have none")
	case r.HiddenActivation != nil && *r.HiddenActivation != "gelu":
		return fmt.Errorf("hidden_activation %q is not supported (gelu is)", *r.HiddenActivation)
	case r.RopeScaling != nil:
		return errors.New("rope_scaling is not supported")
	}
	f := &Config{Eps: 1e-5, NormBias: r.NormBias, GlobalTheta: 160000, LocalTheta: 10000}
	if r.NormEps != nil {
		f.Eps = *r.NormEps
	}
	if r.GlobalRopeTheta != nil {
		f.GlobalTheta = *r.GlobalRopeTheta
	}
	if r.LocalRopeTheta != nil {
		f.LocalTheta = *r.LocalRopeTheta
	}
	for kind, p := range r.RopeParameters {
		if p.Type != "" && p.Type != "default" {
			return fmt.Errorf("rope_parameters.%s.rope_type %q is not supported", kind, p.Type)
		}
		if p.Theta == nil {
			continue
		}
		switch kind {
		case "full_attention":
			f.GlobalTheta = *p.Theta
		case "sliding_attention":
			f.LocalTheta = *p.Theta
		}
	}
	every, local := 3, 128
	if r.GlobalEvery != nil {
		every = *r.GlobalEvery
	}
	if r.LocalAttention != nil {
		local = *r.LocalAttention
	}
	if every < 1 || local < 2 {
		return fmt.Errorf("global_attn_every_n_layers %d, local_attention %d", every, local)
	}
	f.Radius = local / 2
	f.Global = make([]bool, c.NumHiddenLayers)
	for i := range f.Global {
		f.Global[i] = i%every == 0
	}
	if r.LayerTypes != nil {
		if len(r.LayerTypes) != c.NumHiddenLayers {
			return fmt.Errorf("%d layer_types for %d layers", len(r.LayerTypes), c.NumHiddenLayers)
		}
		for i, t := range r.LayerTypes {
			switch t {
			case "full_attention", "sliding_attention":
				f.Global[i] = t == "full_attention"
			default:
				return fmt.Errorf("layer_types[%d] %q is not supported", i, t)
			}
		}
	}
	if c.NumKeyValueHeads != c.NumAttentionHeads || c.HeadDim*c.NumAttentionHeads != c.HiddenSize {
		return fmt.Errorf("%d heads of %d for a width of %d (ModernBERT splits the width evenly, no grouped keys)",
			c.NumAttentionHeads, c.HeadDim, c.HiddenSize)
	}
	if !(f.Eps > 0 && f.Eps < 1) || !(f.GlobalTheta > 0) || !(f.LocalTheta > 0) {
		return fmt.Errorf("norm_eps %g, rope bases %g and %g", f.Eps, f.GlobalTheta, f.LocalTheta)
	}
	if len(r.Architectures) > 0 && r.Architectures[0] == "ModernBertForSequenceClassification" {
		if err := f.head(&r); err != nil {
			return err
		}
	}
	c.RopeScaling = nil
	c.Family = f
	return nil
}

// head reads the classification head's settings, with ModernBertConfig's
// defaults (cls pooling, gelu) and PretrainedConfig's num_labels (the size
// of id2label, else 2).
func (f *Config) head(r *rawConfig) error {
	f.Labels = 2
	if len(r.ID2Label) > 0 {
		f.Labels = len(r.ID2Label)
	} else if r.NumLabels != nil {
		f.Labels = *r.NumLabels
	}
	pool, act := "cls", "gelu"
	if r.ClassifierPool != nil {
		pool = *r.ClassifierPool
	}
	if r.ClassifierAct != nil {
		act = *r.ClassifierAct
	}
	switch {
	case f.Labels < 1 || f.Labels > 1<<16:
		return fmt.Errorf("%d classification labels", f.Labels)
	case pool != "cls" && pool != "mean":
		return fmt.Errorf("classifier_pooling %q is not supported (cls and mean are)", pool)
	case act != "gelu":
		return fmt.Errorf("classifier_activation %q is not supported (gelu is)", act)
	}
	f.MeanPool, f.HeadBias = pool == "mean", r.ClassifierBias
	return nil
}

type norm struct {
	w, b model.Tensor
	bias bool
}

type layer struct {
	attnNorm   norm         // absent in layer 0
	q, k, v, o model.Linear // blocks of attn.Wqkv (hidden, hidden) each; attn.Wo
	mlpNorm    norm
	in, gate   model.Linear // blocks of mlp.Wi (inter, hidden) each
	out        model.Linear // mlp.Wo (hidden, inter)
}

// Def is a bound ModernBERT encoder.
type Def struct {
	f                   *Config
	words               model.Linear // (vocab, hidden)
	embNorm, finalNorm  norm
	dense, classifier   model.Linear // head.dense (hidden, hidden); classifier (labels, hidden)
	headNorm            norm
	layers              []layer
	globalRope, local   model.Rope
	globalAttn, slidAtt model.Attention
}

// Build binds the encoder's tensors, as ModernBertModel saves them (no
// prefix) or inside a ModernBertForMaskedLM checkpoint ("model.").
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	f, ok := c.Family.(*Config)
	if !ok {
		return nil, errors.New("modernbert: configuration missing")
	}
	p := ""
	if !b.Has("embeddings.tok_embeddings.weight") && b.Has("model.embeddings.tok_embeddings.weight") {
		p = "model."
	}
	h, inter, hd := c.HiddenSize, c.IntermediateSize, c.HeadDim
	attn := model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumAttentionHeads, HeadDim: hd,
		Scale: 1 / math.Sqrt(float64(hd)), Bidirectional: true}
	d := &Def{f: f, layers: make([]layer, c.NumHiddenLayers),
		globalRope: model.Rope{HeadDim: hd, Dims: hd, Freqs: model.RopeFreqsFor(f.GlobalTheta, hd, nil)},
		local:      model.Rope{HeadDim: hd, Dims: hd, Freqs: model.RopeFreqsFor(f.LocalTheta, hd, nil)},
		globalAttn: attn, slidAtt: attn}
	d.slidAtt.Radius = f.Radius
	errs := []error{
		b.Linear(&d.words, p+"embeddings.tok_embeddings", c.VocabSize, h, false),
		bindNorm(b, &d.embNorm, p+"embeddings.norm", h, f.NormBias),
		bindNorm(b, &d.finalNorm, p+"final_norm", h, f.NormBias),
	}
	for i := range d.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		l := &d.layers[i]
		lp := fmt.Sprintf("%slayers.%d.", p, i)
		if i > 0 {
			errs = append(errs, bindNorm(b, &l.attnNorm, lp+"attn_norm", h, f.NormBias))
		}
		errs = append(errs,
			b.Rows([]*model.Linear{&l.q, &l.k, &l.v}, lp+"attn.Wqkv", []int{h, h, h}, h),
			b.Linear(&l.o, lp+"attn.Wo", h, h, false),
			bindNorm(b, &l.mlpNorm, lp+"mlp_norm", h, f.NormBias),
			b.Rows([]*model.Linear{&l.in, &l.gate}, lp+"mlp.Wi", []int{inter, inter}, h),
			b.Linear(&l.out, lp+"mlp.Wo", h, inter, false))
	}
	if f.Labels > 0 {
		errs = append(errs,
			b.Linear(&d.dense, "head.dense", h, h, f.HeadBias),
			bindNorm(b, &d.headNorm, "head.norm", h, f.NormBias),
			b.Linear(&d.classifier, "classifier", f.Labels, h, true))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("modernbert: %w", err)
	}
	return d, nil
}

func bindNorm(b *model.Binder, n *norm, path string, h int, bias bool) error {
	n.bias = bias
	if !bias {
		return b.Vector(&n.w, path+".weight", h)
	}
	return errors.Join(b.Vector(&n.w, path+".weight", h), b.Vector(&n.b, path+".bias", h))
}

func (d *Def) layerNorm(o model.Ops, x model.Value, n *norm) model.Value {
	var bias *model.Tensor
	if n.bias {
		bias = &n.b
	}
	return o.LayerNorm(x, &n.w, bias, d.f.Eps)
}

func (d *Def) Layers() int { return len(d.layers) }

// Labels is the classification head's number of scores; 0 without one.
func (d *Def) Labels() int { return d.f.Labels }

// MeanPooled reports classifier_pooling "mean": the head reads the mean of
// the final hidden states.
func (d *Def) MeanPooled() bool { return d.f.MeanPool }

// Embed is ModernBertEmbeddings: the token's row, then the norm.
func (d *Def) Embed(o model.Ops) model.Value {
	e := model.AsEncoderOps(o)
	return d.layerNorm(e, e.Lookup(&d.words, model.ByToken, 0), &d.embNorm)
}

// Layer is ModernBertEncoderLayer: x + attn(attn_norm(x)), then
// x + mlp(mlp_norm(x)); the first layer's attn_norm is the identity.
func (d *Def) Layer(o model.Ops, i int, x model.Value) model.Value {
	e, l := model.AsEncoderOps(o), &d.layers[i]
	h := x
	if i > 0 {
		h = d.layerNorm(e, x, &l.attnNorm)
	}
	rope, attn := &d.local, &d.slidAtt
	if d.f.Global[i] {
		rope, attn = &d.globalRope, &d.globalAttn
	}
	q, k, v := e.Linear3(h, &l.q, &l.k, &l.v)
	q, k = e.RoPE(q, rope), e.RoPE(k, rope)
	x = e.Add(e.Linear(e.Attention(i, q, k, v, attn), &l.o), x)
	// ModernBertMLP: Wo(act(input) * gate), input and gate the halves of Wi.
	in, gate := e.Linear2(d.layerNorm(e, x, &l.mlpNorm), &l.in, &l.gate)
	m := e.Linear(e.Mul(e.Act(in, model.GELU), gate), &l.out)
	return e.Add(m, x)
}

// Norm is final_norm.
func (d *Def) Norm(o model.Ops, x model.Value) model.Value { return d.layerNorm(o, x, &d.finalNorm) }

// Logits is ModernBertForSequenceClassification's head on the pooled
// states: classifier(norm(gelu(dense(pooled)))).
func (d *Def) Logits(o model.Ops, h model.Value) model.Value {
	if d.f.Labels == 0 {
		panic("modernbert: the model has no classification head")
	}
	e := model.AsEncoderOps(o)
	x := d.layerNorm(e, e.Act(e.Linear(h, &d.dense), model.GELU), &d.headNorm)
	return e.Linear(x, &d.classifier)
}
