// Package nomicbert registers NomicBertModel (nomic-embed-text-v1 and v1.5,
// nomic-bert-2048) as nomic-ai's modeling_hf_nomic_bert.py computes it, the
// code those checkpoints name in their auto_map: a BERT whose config.json
// speaks GPT-2 (n_embd, n_head, n_layer, n_inner, layer_norm_epsilon), with
// word and token type embeddings only, rotary positions in the attention,
// one fused Wqkv projection, a gated SwiGLU feed-forward and, in the
// released text models, no biases; post-norm blocks as in BERT. The
// GELU-MLP, prenorm and absolute-position variants of nomic-bert-2048's code
// are refused at load.
package nomicbert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	model.Register(model.Arch{Name: "NomicBertModel", Configure: configure, Build: Build})
}

// Config is what the family reads from config.json beyond model.Config.
type Config struct {
	TypeVocab  int     // type_vocab_size; 0: no token type embeddings
	Eps        float64 // layer_norm_epsilon
	RotaryDims int     // head_dim * rotary_emb_fraction
	Inter      int     // the SwiGLU width as the checkpoint stores it
	FC1Bias    bool    // mlp_fc1_bias: fc11 and fc12
	FC2Bias    bool    // mlp_fc2_bias
}

// rawConfig holds NomicBertConfig's keys with GPT2Config's names; pointers
// tell absent from zero, and absent keys take NomicBertConfig's (or
// GPT2Config's) defaults.
type rawConfig struct {
	NEmbd             *int     `json:"n_embd"`
	NHead             *int     `json:"n_head"`
	NLayer            *int     `json:"n_layer"`
	NInner            *int     `json:"n_inner"`
	NPositions        *int     `json:"n_positions"`
	MaxTrained        *int     `json:"max_trained_positions"`
	NumHeadsKV        *int     `json:"num_heads_kv"`
	VocabSize         *int     `json:"vocab_size"`
	PadVocabMultiple  *int     `json:"pad_vocab_size_multiple"`
	TypeVocabSize     *int     `json:"type_vocab_size"`
	LayerNormEpsilon  *float64 `json:"layer_norm_epsilon"`
	Activation        *string  `json:"activation_function"`
	RotaryFraction    *float64 `json:"rotary_emb_fraction"`
	RotaryBase        *float64 `json:"rotary_emb_base"`
	RotaryInterleaved bool     `json:"rotary_emb_interleaved"`
	QKVProjBias       *bool    `json:"qkv_proj_bias"`
	MLPFC1Bias        *bool    `json:"mlp_fc1_bias"`
	MLPFC2Bias        *bool    `json:"mlp_fc2_bias"`
	Prenorm           bool     `json:"prenorm"`
	ParallelBlock     bool     `json:"parallel_block"`
}

func orInt(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func orBool(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func configure(c *model.Config, raw []byte) error {
	var r rawConfig
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	switch {
	case r.Prenorm || r.ParallelBlock:
		return errors.New("prenorm and parallel_block are not supported: the text models are post-norm")
	case r.RotaryInterleaved:
		return errors.New("rotary_emb_interleaved is not supported (GPT-NeoX halves are)")
	case orBool(r.QKVProjBias, true):
		return errors.New("qkv_proj_bias is not supported: the released text models have none")
	}
	// GPT2Config's defaults where NomicBertConfig has none.
	h, heads := orInt(r.NEmbd, 768), orInt(r.NHead, 12)
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads = h, orInt(r.NLayer, 12), heads
	if heads <= 0 || h%heads != 0 {
		return fmt.Errorf("n_embd %d is not a multiple of n_head %d", h, heads)
	}
	if r.NumHeadsKV != nil && *r.NumHeadsKV != heads {
		return fmt.Errorf("num_heads_kv %d differs from n_head %d", *r.NumHeadsKV, heads)
	}
	c.NumKeyValueHeads, c.HeadDim = heads, h/heads
	// NomicBertModel rounds the vocabulary up to pad_vocab_size_multiple;
	// the checkpoint's table has the rounded size.
	c.VocabSize = orInt(r.VocabSize, 50257)
	if m := orInt(r.PadVocabMultiple, 1); m > 1 && c.VocabSize%m != 0 {
		c.VocabSize += m - c.VocabSize%m
	}
	f := &Config{TypeVocab: orInt(r.TypeVocabSize, 2), FC1Bias: orBool(r.MLPFC1Bias, true), FC2Bias: orBool(r.MLPFC2Bias, true)}
	if r.LayerNormEpsilon != nil {
		f.Eps = *r.LayerNormEpsilon
	} else {
		f.Eps = 1e-5
	}
	frac := 0.0
	if r.RotaryFraction != nil {
		frac = *r.RotaryFraction
	}
	// int(head_dim * rotary_emb_fraction), as NomicBertAttention sizes it.
	f.RotaryDims = int(float64(c.HeadDim) * frac)
	if f.RotaryDims <= 0 || f.RotaryDims > c.HeadDim || f.RotaryDims%2 != 0 {
		return fmt.Errorf("rotary_emb_fraction %g gives %d rotary dimensions of %d (absolute positions are not supported)", frac, f.RotaryDims, c.HeadDim)
	}
	c.RopeTheta = 10000
	if r.RotaryBase != nil {
		c.RopeTheta = *r.RotaryBase
	}
	c.RopeScaling = nil
	act := "gelu_new" // GPT2Config's
	if r.Activation != nil {
		act = *r.Activation
	}
	if act != "swiglu" {
		// The released text models are all SwiGLU; nomic-bert-2048's GELU
		// and GLU variants are not run.
		return fmt.Errorf("activation_function %q is not supported (swiglu is)", act)
	}
	// NomciBertGatedMLP: int(8*n_embd/3) when n_inner is unset, rounded up
	// to a multiple of 256.
	inter := 8 * h / 3
	if r.NInner != nil {
		inter = *r.NInner
	}
	inter = (inter + 255) / 256 * 256
	f.Inter, c.IntermediateSize = inter, inter
	// The positions the model was trained on: beyond them its dynamic NTK
	// scaling (rotary_scaling_factor) would change every frequency with the
	// sequence length, so the window stops there, as llama.cpp's does (2048
	// for nomic-embed-text-v1.5, whose n_positions says 8192).
	c.MaxPositionEmbeddings = orInt(r.MaxTrained, 2048)
	if r.NPositions != nil && *r.NPositions > 0 {
		c.MaxPositionEmbeddings = min(c.MaxPositionEmbeddings, *r.NPositions)
	}
	if f.TypeVocab < 0 || f.TypeVocab > 1<<10 || !(f.Eps > 0 && f.Eps < 1) {
		return fmt.Errorf("type_vocab_size %d, layer_norm_epsilon %g", f.TypeVocab, f.Eps)
	}
	c.Family = f
	return nil
}

type norm struct{ w, b model.Tensor }

type layer struct {
	q, k, v, o model.Linear // blocks of attn.Wqkv (hidden, hidden) each; attn.out_proj
	norm1      norm
	up, gate   model.Linear // mlp.fc11 and mlp.fc12 (inter, hidden)
	down       model.Linear // mlp.fc2 (hidden, inter)
	norm2      norm
}

// Def is a bound NomicBERT encoder.
type Def struct {
	f            *Config
	words, types model.Linear // (vocab, hidden), (typeVocab, hidden)
	embNorm      norm
	layers       []layer
	rope         model.Rope
	attention    model.Attention
}

// Build binds the encoder's tensors, as NomicBertModel saves them (no
// prefix) or inside a NomicBertForPreTraining checkpoint ("bert.").
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	f, ok := c.Family.(*Config)
	if !ok {
		return nil, errors.New("nomicbert: configuration missing")
	}
	p := ""
	if !b.Has("embeddings.word_embeddings.weight") && b.Has("bert.embeddings.word_embeddings.weight") {
		p = "bert."
	}
	h := c.HiddenSize
	d := &Def{f: f, layers: make([]layer, c.NumHiddenLayers),
		rope: model.Rope{HeadDim: c.HeadDim, Dims: f.RotaryDims, Freqs: model.RopeFreqsFor(c.RopeTheta, f.RotaryDims, nil)},
		attention: model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumAttentionHeads, HeadDim: c.HeadDim,
			Scale: 1 / math.Sqrt(float64(c.HeadDim)), Bidirectional: true}}
	errs := []error{
		b.Linear(&d.words, p+"embeddings.word_embeddings", c.VocabSize, h, false),
		bindNorm(b, &d.embNorm, p+"emb_ln", h),
	}
	if f.TypeVocab > 0 {
		errs = append(errs, b.Linear(&d.types, p+"embeddings.token_type_embeddings", f.TypeVocab, h, false))
	}
	for i := range d.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		l := &d.layers[i]
		lp := fmt.Sprintf("%sencoder.layers.%d.", p, i)
		errs = append(errs,
			b.Rows([]*model.Linear{&l.q, &l.k, &l.v}, lp+"attn.Wqkv", []int{h, h, h}, h),
			b.Linear(&l.o, lp+"attn.out_proj", h, h, false),
			bindNorm(b, &l.norm1, lp+"norm1", h),
			bindNorm(b, &l.norm2, lp+"norm2", h),
			b.Linear(&l.up, lp+"mlp.fc11", f.Inter, h, f.FC1Bias),
			b.Linear(&l.gate, lp+"mlp.fc12", f.Inter, h, f.FC1Bias),
			b.Linear(&l.down, lp+"mlp.fc2", h, f.Inter, f.FC2Bias))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("nomicbert: %w", err)
	}
	return d, nil
}

func bindNorm(b *model.Binder, n *norm, path string, h int) error {
	return errors.Join(b.Vector(&n.w, path+".weight", h), b.Vector(&n.b, path+".bias", h))
}

func (d *Def) Layers() int { return len(d.layers) }

// Labels is 0: NomicBertModel has no classification head.
func (d *Def) Labels() int { return 0 }

// Embed is NomicBertEmbeddings (words + token types; the positions are
// rotary) then emb_ln.
func (d *Def) Embed(o model.Ops) model.Value {
	e := model.AsEncoderOps(o)
	x := e.Lookup(&d.words, model.ByToken, 0)
	if d.f.TypeVocab > 0 {
		x = e.Add(x, e.Lookup(&d.types, model.ByType, 0))
	}
	return e.LayerNorm(x, &d.embNorm.w, &d.embNorm.b, d.f.Eps)
}

// Layer is NomicBertBlock without prenorm: attention with rotary q and k,
// out_proj, norm1 of the residual sum, then the MLP and norm2 likewise.
func (d *Def) Layer(o model.Ops, i int, x model.Value) model.Value {
	e, l, eps := model.AsEncoderOps(o), &d.layers[i], d.f.Eps
	q, k, v := e.Linear3(x, &l.q, &l.k, &l.v)
	q, k = e.RoPE(q, &d.rope), e.RoPE(k, &d.rope)
	a := e.Linear(e.Attention(i, q, k, v, &d.attention), &l.o)
	x = e.LayerNorm(e.Add(a, x), &l.norm1.w, &l.norm1.b, eps)
	// NomciBertGatedMLP: fc11(x) * silu(fc12(x)); fc12 is the gate.
	m := model.GatedMLP(e, x, &l.gate, &l.up, &l.down, model.SiLU)
	return e.LayerNorm(e.Add(m, x), &l.norm2.w, &l.norm2.b, eps)
}

// Norm is the identity: every block ends with its own LayerNorm.
func (d *Def) Norm(o model.Ops, x model.Value) model.Value { return x }

// Logits panics: NomicBertModel is an embedding model without a head.
func (d *Def) Logits(o model.Ops, h model.Value) model.Value {
	panic("nomicbert: the model has no classification head")
}
