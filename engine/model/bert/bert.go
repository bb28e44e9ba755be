// Package bert registers the BERT-style encoders: BertModel and the encoder
// of BertForMaskedLM checkpoints (sentence-transformers' all-MiniLM, bge, e5),
// XLMRobertaModel (multilingual-e5, bge-m3), and the cross-encoders
// BertForSequenceClassification and XLMRobertaForSequenceClassification
// (ms-marco-MiniLM, bge-reranker), as transformers' modeling_bert.py and
// modeling_xlm_roberta.py compute them: word + absolute position + token type
// embeddings and a LayerNorm, then post-norm blocks of bidirectional
// attention with biases and a GELU feed-forward.
package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

func init() {
	for _, a := range []struct {
		name    string
		roberta bool
		head    bool
	}{
		{"BertModel", false, false},
		{"BertForMaskedLM", false, false},
		{"BertForSequenceClassification", false, true},
		{"XLMRobertaModel", true, false},
		{"RobertaModel", true, false},
		{"XLMRobertaForSequenceClassification", true, true},
		{"RobertaForSequenceClassification", true, true},
	} {
		a := a
		model.Register(model.Arch{
			Name:      a.name,
			Configure: func(c *model.Config, raw []byte) error { return configure(c, raw, a.roberta, a.head) },
			Build:     Build,
		})
	}
}

// Config is what the family reads from config.json beyond model.Config.
type Config struct {
	Roberta       bool    // XLM-R / RoBERTa: positions start at PadTokenID+1, RobertaClassificationHead
	Head          bool    // a sequence-classification checkpoint
	Labels        int     // classification scores (num_labels, or the size of id2label)
	TypeVocab     int     // type_vocab_size
	LayerNormEps  float64 // layer_norm_eps
	PadTokenID    int     // pad_token_id (XLM-R: 1)
	Act           model.Activation
	PositionShift int // first position id: 0, or PadTokenID+1 for RoBERTa
}

type rawConfig struct {
	TypeVocabSize         *int              `json:"type_vocab_size"`
	LayerNormEps          *float64          `json:"layer_norm_eps"`
	PadTokenID            *int              `json:"pad_token_id"`
	PositionEmbeddingType string            `json:"position_embedding_type"`
	NumLabels             *int              `json:"num_labels"`
	ID2Label              map[string]string `json:"id2label"`
	IsDecoder             bool              `json:"is_decoder"`
	AddCrossAttention     bool              `json:"add_cross_attention"`
	ProblemType           string            `json:"problem_type"`
}

func configure(c *model.Config, raw []byte, roberta, head bool) error {
	var r rawConfig
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if r.PositionEmbeddingType != "" && r.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("position_embedding_type %q is not supported (absolute is)", r.PositionEmbeddingType)
	}
	if r.IsDecoder || r.AddCrossAttention {
		return errors.New("is_decoder and add_cross_attention are not supported: only the encoder runs")
	}
	f := &Config{Roberta: roberta, Head: head, TypeVocab: 2, LayerNormEps: 1e-12}
	if r.TypeVocabSize != nil {
		f.TypeVocab = *r.TypeVocabSize
	}
	if r.LayerNormEps != nil {
		f.LayerNormEps = *r.LayerNormEps
	}
	if r.PadTokenID != nil {
		f.PadTokenID = *r.PadTokenID
	}
	if roberta {
		f.PositionShift = f.PadTokenID + 1
	}
	switch c.HiddenAct {
	case "gelu", "silu": // "silu" is model.Config's default for an absent key; BertConfig's is "gelu"
		f.Act = model.GELU
	case "gelu_new", "gelu_pytorch_tanh":
		f.Act = model.GELUTanh
	default:
		return fmt.Errorf("hidden_act %q is not supported (gelu, gelu_new are)", c.HiddenAct)
	}
	if head {
		// PretrainedConfig: num_labels is len(id2label), 2 when neither is written.
		f.Labels = 2
		if len(r.ID2Label) > 0 {
			f.Labels = len(r.ID2Label)
		} else if r.NumLabels != nil {
			f.Labels = *r.NumLabels
		}
		if f.Labels < 1 || f.Labels > 1<<16 {
			return fmt.Errorf("%d classification labels", f.Labels)
		}
	}
	if f.TypeVocab < 1 || f.TypeVocab > 1<<10 || !(f.LayerNormEps > 0 && f.LayerNormEps < 1) {
		return fmt.Errorf("type_vocab_size %d, layer_norm_eps %g", f.TypeVocab, f.LayerNormEps)
	}
	if f.PositionShift < 0 || f.PositionShift >= c.MaxPositionEmbeddings {
		return fmt.Errorf("pad_token_id %d leaves no position embeddings", f.PadTokenID)
	}
	// The position table's rows past the shift are the positions a sequence may use.
	c.MaxPositionEmbeddings -= f.PositionShift
	if c.NumKeyValueHeads != c.NumAttentionHeads || c.HeadDim*c.NumAttentionHeads != c.HiddenSize {
		return fmt.Errorf("%d heads of %d for hidden size %d", c.NumAttentionHeads, c.HeadDim, c.HiddenSize)
	}
	c.QKVBias, c.OBias, c.MLPBias = true, true, true
	c.Family = f
	return nil
}

type norm struct{ w, b model.Tensor }

type layer struct {
	q, k, v, o   model.Linear
	attnNorm     norm
	inter, out   model.Linear
	outNorm      norm
	attention    model.Attention
	intermediate int
}

// Def is a bound BERT or XLM-R encoder.
type Def struct {
	f                  *Config
	words, pos, types  model.Linear // (vocab, hidden), (maxPos, hidden), (typeVocab, hidden)
	embNorm            norm
	layers             []layer
	pooler, classifier model.Linear // BERT: pooler.dense then classifier; RoBERTa: classifier.dense, classifier.out_proj
}

// Build binds the encoder's tensors, under the "bert." or "roberta." prefix
// that task checkpoints (ForMaskedLM, ForSequenceClassification) add.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	f, ok := c.Family.(*Config)
	if !ok {
		return nil, errors.New("bert: configuration missing")
	}
	p := ""
	for _, pre := range []string{"bert.", "roberta."} {
		if b.Has(pre + "embeddings.word_embeddings.weight") {
			p = pre
		}
	}
	d := &Def{f: f, layers: make([]layer, c.NumHiddenLayers)}
	h := c.HiddenSize
	maxPos := c.MaxPositionEmbeddings + f.PositionShift
	errs := []error{
		b.Linear(&d.words, p+"embeddings.word_embeddings", c.VocabSize, h, false),
		b.Linear(&d.pos, p+"embeddings.position_embeddings", maxPos, h, false),
		b.Linear(&d.types, p+"embeddings.token_type_embeddings", f.TypeVocab, h, false),
		bindNorm(b, &d.embNorm, p+"embeddings.LayerNorm", h),
	}
	att := model.Attention{Heads: c.NumAttentionHeads, KVHeads: c.NumAttentionHeads, HeadDim: c.HeadDim,
		Scale: 1 / math.Sqrt(float64(c.HeadDim)), Bidirectional: true}
	for i := range d.layers {
		if err := b.Err(); err != nil {
			return nil, err
		}
		l := &d.layers[i]
		l.attention = att
		lp := fmt.Sprintf("%sencoder.layer.%d.", p, i)
		errs = append(errs,
			b.Linear(&l.q, lp+"attention.self.query", h, h, true),
			b.Linear(&l.k, lp+"attention.self.key", h, h, true),
			b.Linear(&l.v, lp+"attention.self.value", h, h, true),
			b.Linear(&l.o, lp+"attention.output.dense", h, h, true),
			bindNorm(b, &l.attnNorm, lp+"attention.output.LayerNorm", h),
			b.Linear(&l.inter, lp+"intermediate.dense", c.IntermediateSize, h, true),
			b.Linear(&l.out, lp+"output.dense", h, c.IntermediateSize, true),
			bindNorm(b, &l.outNorm, lp+"output.LayerNorm", h),
		)
	}
	if f.Head {
		if f.Roberta {
			errs = append(errs,
				b.Linear(&d.pooler, "classifier.dense", h, h, true),
				b.Linear(&d.classifier, "classifier.out_proj", f.Labels, h, true))
		} else {
			errs = append(errs,
				b.Linear(&d.pooler, p+"pooler.dense", h, h, true),
				b.Linear(&d.classifier, "classifier", f.Labels, h, true))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	return d, nil
}

// bindNorm binds a LayerNorm's weight and bias, named gamma and beta in
// checkpoints converted from the original TensorFlow BERT.
func bindNorm(b *model.Binder, n *norm, path string, h int) error {
	w, bias := path+".weight", path+".bias"
	if !b.Has(w) && b.Has(path+".gamma") {
		w, bias = path+".gamma", path+".beta"
	}
	return errors.Join(b.Vector(&n.w, w, h), b.Vector(&n.b, bias, h))
}

func (d *Def) Layers() int { return len(d.layers) }

// Labels is the number of classification scores, 0 without a head.
func (d *Def) Labels() int {
	if !d.f.Head {
		return 0
	}
	return d.f.Labels
}

// Embed is BertEmbeddings: words + token types + positions, then LayerNorm.
func (d *Def) Embed(o model.Ops) model.Value {
	e := model.AsEncoderOps(o)
	x := e.Lookup(&d.words, model.ByToken, 0)
	x = e.Add(x, e.Lookup(&d.types, model.ByType, 0))
	x = e.Add(x, e.Lookup(&d.pos, model.ByPosition, d.f.PositionShift))
	return e.LayerNorm(x, &d.embNorm.w, &d.embNorm.b, d.f.LayerNormEps)
}

// Layer is BertLayer: self-attention, its output dense and residual
// LayerNorm, then intermediate (GELU) and output dense and residual LayerNorm.
func (d *Def) Layer(o model.Ops, i int, x model.Value) model.Value {
	e, l, eps := model.AsEncoderOps(o), &d.layers[i], d.f.LayerNormEps
	q, k, v := e.Linear3(x, &l.q, &l.k, &l.v)
	a := e.Linear(e.Attention(i, q, k, v, &l.attention), &l.o)
	x = e.LayerNorm(e.Add(a, x), &l.attnNorm.w, &l.attnNorm.b, eps)
	m := e.Linear(e.Act(e.Linear(x, &l.inter), d.f.Act), &l.out)
	return e.LayerNorm(e.Add(m, x), &l.outNorm.w, &l.outNorm.b, eps)
}

// Norm is the identity: every block ends with its own LayerNorm, and
// last_hidden_state is the last block's output.
func (d *Def) Norm(o model.Ops, x model.Value) model.Value { return x }

// Logits is the classification head on the first token's hidden state:
// BertPooler (dense, tanh) then the classifier, or RobertaClassificationHead
// (dense, tanh, out_proj), which are the same operations.
func (d *Def) Logits(o model.Ops, h model.Value) model.Value {
	if !d.f.Head {
		panic("bert: the model has no classification head")
	}
	e := model.AsEncoderOps(o)
	return e.Linear(e.Act(e.Linear(h, &d.pooler), model.Tanh), &d.classifier)
}
