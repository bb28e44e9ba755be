package hfref

import (
	"fmt"
	"math"
)

// NomicBertModel (nomic-embed-text-v1/v1.5), from nomic-ai's
// modeling_hf_nomic_bert.py (contrastors, the code the checkpoints' auto_map
// names) and its NomicBertConfig over GPT2Config: NomicBertEmbeddings (word
// and token type rows; no position rows once rotary_emb_fraction > 0),
// emb_ln, then NomicBertBlock without prenorm: NomicBertAttention (Wqkv,
// rotary q and k with NomicBertRotaryEmbedding in its rotate_half form,
// softmax(q·kᵀ/sqrt(head_dim)), out_proj), norm1(attn + x), NomciBertGatedMLP
// (fc2(fc11(x) * silu(fc12(x))), the widths rounded up to 256), norm2(mlp + x).
// One sequence without padding.

// nomic shares the BERT oracle's tensor reads and LayerNorm (its hidden,
// eps, w and err).
type nomic struct {
	*encoder
	prefix           string
	heads, inter     int
	layers, rotary   int
	typeVocab        int
	base             float64
	fc1Bias, fc2Bias bool
}

func isNomic(config map[string]any) bool {
	a, _ := config["architectures"].([]any)
	return len(a) > 0 && a[0] == "NomicBertModel"
}

func newNomic(config map[string]any, w Tensors) (*nomic, error) {
	c := cfg(config)
	// GPT2Config's defaults, then NomicBertConfig's.
	n := &nomic{encoder: &encoder{w: w, hidden: c.int("n_embd", 768), eps: c.num("layer_norm_epsilon", 1e-5)},
		heads: c.int("n_head", 12), layers: c.int("n_layer", 12), base: c.num("rotary_emb_base", 10000),
		typeVocab: c.int("type_vocab_size", 2), fc1Bias: c.bool("mlp_fc1_bias", true), fc2Bias: c.bool("mlp_fc2_bias", true)}
	if _, ok := w["bert.embeddings.word_embeddings.weight"]; ok {
		n.prefix = "bert."
	}
	if act := c.str("activation_function", "gelu_new"); act != "swiglu" {
		return nil, fmt.Errorf("hfref: nomic activation_function %q", act)
	}
	if c.bool("prenorm", false) || c.bool("qkv_proj_bias", true) || c.bool("rotary_emb_interleaved", false) {
		return nil, fmt.Errorf("hfref: nomic prenorm, qkv_proj_bias or interleaved rotary")
	}
	hd := n.hidden / n.heads
	n.rotary = int(float64(hd) * c.num("rotary_emb_fraction", 0))
	if n.rotary <= 0 {
		return nil, fmt.Errorf("hfref: nomic without rotary embeddings")
	}
	// NomciBertGatedMLP: hidden_features = n_inner or int(8*in/3), then
	// (hidden_features + 255) // 256 * 256.
	inter := int(8 * float64(n.hidden) / 3)
	if c.has("n_inner") {
		inter = c.int("n_inner", 0)
	}
	n.inter = (inter + 255) / 256 * 256
	return n, nil
}

// linear is nn.Linear(in, out, bias): x·Wᵀ (+ b).
func (n *nomic) linear(path string, x [][]float64, out int, bias bool) [][]float64 {
	in := len(x[0])
	w := n.get(path+".weight", out*in)
	var b []float64
	if bias {
		b = n.get(path+".bias", out)
	}
	y := make([][]float64, len(x))
	for i, row := range x {
		y[i] = make([]float64, out)
		for o := range out {
			var s float64
			if b != nil {
				s = b[o]
			}
			for k, v := range row {
				s += v * w[o*in+k]
			}
			y[i][o] = s
		}
	}
	return y
}

// rotate applies apply_rotary_emb (interleaved=False) to one head's vector
// at position pos: the first rotary features are x*cos + rotate_half(x)*sin
// with cos, sin of pos * inv_freq repeated over both halves; the rest pass.
func (n *nomic) rotate(x []float64, pos int) {
	half := n.rotary / 2
	for i := range half {
		invFreq := 1 / math.Pow(n.base, float64(2*i)/float64(n.rotary))
		cos, sin := math.Cos(float64(pos)*invFreq), math.Sin(float64(pos)*invFreq)
		x1, x2 := x[i], x[i+half]
		x[i] = x1*cos - x2*sin
		x[i+half] = x2*cos + x1*sin
	}
}

func (n *nomic) forward(ids, types []int) [][]float64 {
	p, h := n.prefix, n.hidden
	word := n.get(p+"embeddings.word_embeddings.weight", len(n.w[p+"embeddings.word_embeddings.weight"].Data))
	x := make([][]float64, len(ids))
	for i, id := range ids {
		x[i] = make([]float64, h)
		copy(x[i], word[id*h:(id+1)*h])
		if n.typeVocab > 0 {
			typ := n.get(p+"embeddings.token_type_embeddings.weight", n.typeVocab*h)
			t := 0
			if types != nil {
				t = types[i]
			}
			for j := range h {
				x[i][j] += typ[t*h+j]
			}
		}
	}
	x = n.layerNorm(p+"emb_ln", x)
	for l := range n.layers {
		x = n.block(fmt.Sprintf("%sencoder.layers.%d.", p, l), x)
	}
	return x
}

func (n *nomic) block(p string, x [][]float64) [][]float64 {
	h, d := n.hidden, n.hidden/n.heads
	// Wqkv's output is "(three h d)": q, then k, then v, each heads × head_dim.
	qkv := n.linear(p+"attn.Wqkv", x, 3*h, false)
	q, k, v := make([][]float64, len(x)), make([][]float64, len(x)), make([][]float64, len(x))
	for i, row := range qkv {
		q[i], k[i], v[i] = row[:h], row[h:2*h], row[2*h:]
		for hd := range n.heads { // NomicBertRotaryEmbedding: q and k of every head
			n.rotate(q[i][hd*d:(hd+1)*d], i)
			n.rotate(k[i][hd*d:(hd+1)*d], i)
		}
	}
	// NomicBertAttention: softmax(q·kᵀ / norm_factor) · v, as BERT's.
	ctx := attention(q, k, v, n.heads)
	a := n.linear(p+"attn.out_proj", ctx, h, false)
	x = n.layerNorm(p+"norm1", sum2(a, x))
	y := n.linear(p+"mlp.fc11", x, n.inter, n.fc1Bias)
	gate := n.linear(p+"mlp.fc12", x, n.inter, n.fc1Bias)
	for i := range y {
		for j, g := range gate[i] {
			y[i][j] *= g / (1 + math.Exp(-g))
		}
	}
	m := n.linear(p+"mlp.fc2", y, h, n.fc2Bias)
	return n.layerNorm(p+"norm2", sum2(m, x))
}
