package hfref

import (
	"fmt"
	"math"
	"strings"
)

// The encoders of issue #23, from transformers' modeling_bert.py
// (BertEmbeddings, BertSelfAttention, BertSelfOutput, BertIntermediate,
// BertOutput, BertPooler, BertForSequenceClassification) and
// modeling_xlm_roberta.py (XLMRobertaEmbeddings'
// create_position_ids_from_input_ids, XLMRobertaClassificationHead), and
// sentence-transformers' models/Pooling.py and models/Normalize.py. One
// sequence, no padding, so the attention mask is all ones.

// Encode returns last_hidden_state, (len(ids), hidden), of a BertModel or
// XLMRobertaModel, or of the encoder inside their task checkpoints, or of a
// NomicBertModel (nomicbert.go) or a ModernBertModel (modernbert.go, which has
// no token types); types
// are the token_type_ids (nil: zeros, as BertModel defaults them).
func Encode(config map[string]any, w Tensors, ids, types []int) ([][]float64, error) {
	if isModernBert(config) {
		m, err := newModernBert(config, w)
		if err != nil {
			return nil, err
		}
		h := m.forward(ids)
		return h, m.e.err
	}
	if isNomic(config) {
		n, err := newNomic(config, w)
		if err != nil {
			return nil, err
		}
		h := n.forward(ids, types)
		return h, n.err
	}
	e, err := newEncoder(config, w)
	if err != nil {
		return nil, err
	}
	h := e.forward(ids, types)
	return h, e.err
}

// Classify returns the logits of BertForSequenceClassification,
// XLMRobertaForSequenceClassification or ModernBertForSequenceClassification
// (modernbert.go), (num_labels).
func Classify(config map[string]any, w Tensors, ids, types []int) ([]float64, error) {
	if isModernBert(config) {
		return classifyModernBert(config, w, ids)
	}
	e, err := newEncoder(config, w)
	if err != nil {
		return nil, err
	}
	h := e.forward(ids, types)
	cls := [][]float64{h[0]} // features[:, 0, :]: the <s> / [CLS] token
	var logits [][]float64
	if e.roberta {
		// XLMRobertaClassificationHead: dropout, dense, tanh, dropout, out_proj.
		x := tanhAll(e.dense("classifier.dense", cls))
		logits = e.dense("classifier.out_proj", x)
	} else {
		// BertPooler: dense then tanh of the first token; then the classifier.
		x := tanhAll(e.dense(e.prefix+"pooler.dense", cls))
		logits = e.dense("classifier", x)
	}
	return logits[0], e.err
}

// Pool is sentence-transformers' Pooling (mode "mean", "cls" or "lasttoken")
// followed, when normalize is set, by Normalize (F.normalize, p=2, eps 1e-12).
func Pool(h [][]float64, mode string, normalize bool) ([]float64, error) {
	dim := len(h[0])
	out := make([]float64, dim)
	switch mode {
	case "mean":
		// sum(token_embeddings * mask) / clamp(sum(mask), min=1e-9)
		for _, row := range h {
			for j, v := range row {
				out[j] += v
			}
		}
		for j := range out {
			out[j] /= float64(len(h))
		}
	case "cls":
		copy(out, h[0])
	case "lasttoken":
		copy(out, h[len(h)-1])
	default:
		return nil, fmt.Errorf("hfref: pooling %q", mode)
	}
	if normalize {
		var n float64
		for _, v := range out {
			n += v * v
		}
		n = max(math.Sqrt(n), 1e-12)
		for j := range out {
			out[j] /= n
		}
	}
	return out, nil
}

type encoder struct {
	w             Tensors
	prefix        string
	roberta       bool
	hidden, heads int
	layers, inter int
	eps           float64
	padIdx        int
	gelu          func(float64) float64
	err           error
}

func newEncoder(config map[string]any, w Tensors) (*encoder, error) {
	c := cfg(config)
	arch := ""
	if a, ok := config["architectures"].([]any); ok && len(a) > 0 {
		arch, _ = a[0].(string)
	}
	e := &encoder{w: w, roberta: strings.Contains(strings.ToLower(arch), "roberta"),
		hidden: c.int("hidden_size", 768), heads: c.int("num_attention_heads", 12),
		layers: c.int("num_hidden_layers", 12), inter: c.int("intermediate_size", 3072),
		eps: c.num("layer_norm_eps", 1e-12), padIdx: c.int("pad_token_id", 0)}
	for _, p := range []string{"bert.", "roberta."} {
		if _, ok := w[p+"embeddings.word_embeddings.weight"]; ok {
			e.prefix = p
		}
	}
	switch act := c.str("hidden_act", "gelu"); act {
	case "gelu": // ACT2FN["gelu"]: GELUActivation, nn.functional.gelu, the erf form
		e.gelu = func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	case "gelu_new", "gelu_pytorch_tanh":
		e.gelu = func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*math.Pow(x, 3))))
		}
	default:
		return nil, fmt.Errorf("hfref: hidden_act %q", act)
	}
	if e.hidden%e.heads != 0 {
		return nil, fmt.Errorf("hfref: hidden %d for %d heads", e.hidden, e.heads)
	}
	return e, nil
}

func (e *encoder) get(name string, n int) []float64 {
	t, ok := e.w[name]
	if !ok || len(t.Data) != n {
		if e.err == nil {
			e.err = fmt.Errorf("hfref: tensor %s missing or not of %d values", name, n)
		}
		return make([]float64, n)
	}
	return t.Data
}

// dense is nn.Linear: x·Wᵀ + b, W stored (out, in).
func (e *encoder) dense(path string, x [][]float64) [][]float64 {
	in := len(x[0])
	bt, ok := e.w[path+".bias"]
	if !ok || len(bt.Data) == 0 {
		if e.err == nil {
			e.err = fmt.Errorf("hfref: tensor %s.bias missing", path)
		}
		return x
	}
	b := bt.Data
	out := len(b)
	wt := e.get(path+".weight", out*in)
	y := make([][]float64, len(x))
	for i, row := range x {
		y[i] = make([]float64, out)
		for o := range out {
			s := b[o]
			for k, v := range row {
				s += v * wt[o*in+k]
			}
			y[i][o] = s
		}
	}
	return y
}

// layerNorm is nn.LayerNorm (biased variance) with weight and bias.
func (e *encoder) layerNorm(path string, x [][]float64) [][]float64 {
	g, b := e.get(path+".weight", e.hidden), e.get(path+".bias", e.hidden)
	y := make([][]float64, len(x))
	for i, row := range x {
		var mean, vr float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		for _, v := range row {
			vr += (v - mean) * (v - mean)
		}
		vr /= float64(len(row))
		y[i] = make([]float64, len(row))
		for j, v := range row {
			y[i][j] = (v-mean)/math.Sqrt(vr+e.eps)*g[j] + b[j]
		}
	}
	return y
}

func (e *encoder) forward(ids, types []int) [][]float64 {
	p, h := e.prefix, e.hidden
	word := e.w[p+"embeddings.word_embeddings.weight"]
	pos := e.w[p+"embeddings.position_embeddings.weight"]
	typ := e.w[p+"embeddings.token_type_embeddings.weight"]
	x := make([][]float64, len(ids))
	for i, id := range ids {
		// BertEmbeddings: position_ids = arange(seq_len);
		// XLM-R: cumsum(input_ids != padding_idx) * mask + padding_idx, which
		// for a sequence without padding is padding_idx + 1 + i.
		position := i
		if e.roberta {
			position = e.padIdx + 1 + i
		}
		t := 0
		if types != nil {
			t = types[i]
		}
		x[i] = make([]float64, h)
		for j := range h {
			x[i][j] = word.Data[id*h+j] + typ.Data[t*h+j] + pos.Data[position*h+j]
		}
	}
	x = e.layerNorm(p+"embeddings.LayerNorm", x)
	for l := range e.layers {
		x = e.block(fmt.Sprintf("%sencoder.layer.%d.", p, l), x)
	}
	return x
}

// block is BertLayer: BertAttention (self-attention, then BertSelfOutput:
// dense, dropout, LayerNorm(hidden + input)) and the feed-forward
// (BertIntermediate: dense, gelu; BertOutput: dense, dropout, LayerNorm(hidden + input)).
func (e *encoder) block(p string, x [][]float64) [][]float64 {
	q := e.dense(p+"attention.self.query", x)
	k := e.dense(p+"attention.self.key", x)
	v := e.dense(p+"attention.self.value", x)
	ctx := attention(q, k, v, e.heads)
	a := e.dense(p+"attention.output.dense", ctx)
	x = e.layerNorm(p+"attention.output.LayerNorm", sum2(a, x))
	m := e.dense(p+"intermediate.dense", x)
	for _, row := range m {
		for j, val := range row {
			row[j] = e.gelu(val)
		}
	}
	o := e.dense(p+"output.dense", m)
	return e.layerNorm(p+"output.LayerNorm", sum2(o, x))
}

// attention is BertSelfAttention's core for each head: attention_scores =
// q·kᵀ / sqrt(head_size), softmax over every key (one sequence without
// padding: the mask is all ones), times v. (tokens, heads*head_size) each.
func attention(q, k, v [][]float64, heads int) [][]float64 {
	d := len(q[0]) / heads
	ctx := make([][]float64, len(q))
	for i := range ctx {
		ctx[i] = make([]float64, len(q[0]))
	}
	for hd := range heads {
		for i := range q {
			scores := make([]float64, len(k))
			m := math.Inf(-1)
			for j := range k {
				var s float64
				for c := range d {
					s += q[i][hd*d+c] * k[j][hd*d+c]
				}
				scores[j] = s / math.Sqrt(float64(d))
				m = max(m, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - m)
				sum += scores[j]
			}
			for j := range k {
				for c := range d {
					ctx[i][hd*d+c] += scores[j] / sum * v[j][hd*d+c]
				}
			}
		}
	}
	return ctx
}

func sum2(a, b [][]float64) [][]float64 {
	y := make([][]float64, len(a))
	for i := range a {
		y[i] = make([]float64, len(a[i]))
		for j := range a[i] {
			y[i][j] = a[i][j] + b[i][j]
		}
	}
	return y
}

func tanhAll(x [][]float64) [][]float64 {
	for _, row := range x {
		for j, v := range row {
			row[j] = math.Tanh(v)
		}
	}
	return x
}
