package hfref

import (
	"fmt"
	"math"
)

// ModernBertModel (and the encoder of ModernBertForMaskedLM), from
// transformers' modeling_modernbert.py: ModernBertEmbeddings (tok_embeddings,
// norm), ModernBertEncoderLayer (hidden + attn(attn_norm(hidden)), with
// attn_norm the identity in layer 0; hidden + mlp(mlp_norm(hidden))),
// ModernBertAttention (Wqkv viewed as (3, heads, head_dim), rotate_half RoPE
// with the full_attention or sliding_attention parameters, scaling
// head_dim^-0.5, Wo), the bidirectional sliding-window mask of the
// sliding_attention layers (|q - kv| <= local_attention // 2, masking_utils'
// sliding_window_bidirectional_overlay), ModernBertMLP (input, gate =
// Wi(x).chunk(2); Wo(act(input) * gate)), nn.LayerNorm with bias only when
// norm_bias, and final_norm. layer_types default to "sliding_attention"
// when i % global_attn_every_n_layers, else "full_attention"; the RoPE bases
// to global_rope_theta 160000 and local_rope_theta 10000. One sequence
// without padding.

func isModernBert(config map[string]any) bool {
	a, _ := config["architectures"].([]any)
	return len(a) > 0 && (a[0] == "ModernBertModel" || a[0] == "ModernBertForMaskedLM" ||
		a[0] == "ModernBertForSequenceClassification")
}

// classifyModernBert is ModernBertForSequenceClassification: the last
// hidden state pooled by classifier_pooling ("cls": the first token;
// "mean": the mean over the attention mask, here every token), then
// ModernBertPredictionHead (dense with classifier_bias, the
// classifier_activation "gelu", norm), then classifier (nn.Linear with bias).
func classifyModernBert(config map[string]any, w Tensors, ids []int) ([]float64, error) {
	m, err := newModernBert(config, w)
	if err != nil {
		return nil, err
	}
	c := cfg(config)
	if act := c.str("classifier_activation", "gelu"); act != "gelu" {
		return nil, fmt.Errorf("hfref: classifier_activation %q", act)
	}
	h := m.forward(ids)
	pooled := append([]float64(nil), h[0]...)
	switch pool := c.str("classifier_pooling", "cls"); pool {
	case "cls":
	case "mean":
		for j := range pooled {
			var s float64
			for _, row := range h {
				s += row[j]
			}
			pooled[j] = s / float64(len(h))
		}
	default:
		return nil, fmt.Errorf("hfref: classifier_pooling %q", pool)
	}
	x := m.linear("head.dense", [][]float64{pooled}, m.hidden)
	if c.bool("classifier_bias", false) {
		b := m.e.get("head.dense.bias", m.hidden)
		for j := range x[0] {
			x[0][j] += b[j]
		}
	}
	for j, v := range x[0] {
		x[0][j] = m.gelu(v)
	}
	x = m.layerNorm("head.norm", x)
	labels := 2
	if l, ok := config["id2label"].(map[string]any); ok && len(l) > 0 {
		labels = len(l)
	} else if c.has("num_labels") {
		labels = c.int("num_labels", 2)
	}
	logits := m.linear("classifier", x, labels)[0]
	b := m.e.get("classifier.bias", labels)
	for j := range logits {
		logits[j] += b[j]
	}
	return logits, m.e.err
}

type modernBert struct {
	e                 *encoder // its tensor reads (get) and err
	prefix            string
	hidden, heads     int
	inter, layers     int
	vocab             int
	eps               float64
	normBias          bool
	full              []bool
	window            int
	globalTh, localTh float64
	gelu              func(float64) float64
}

func newModernBert(config map[string]any, w Tensors) (*modernBert, error) {
	c := cfg(config)
	m := &modernBert{e: &encoder{w: w}, hidden: c.int("hidden_size", 768), heads: c.int("num_attention_heads", 12),
		inter: c.int("intermediate_size", 1152), layers: c.int("num_hidden_layers", 22),
		vocab: c.int("vocab_size", 50368), eps: c.num("norm_eps", 1e-5),
		normBias: c.bool("norm_bias", false), window: c.int("local_attention", 128) / 2,
		globalTh: c.num("global_rope_theta", 160000), localTh: c.num("local_rope_theta", 10000)}
	if _, ok := w["model.embeddings.tok_embeddings.weight"]; ok {
		m.prefix = "model."
	}
	if act := c.str("hidden_activation", "gelu"); act != "gelu" {
		return nil, fmt.Errorf("hfref: hidden_activation %q", act)
	}
	m.gelu = func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	if c.bool("attention_bias", false) || c.bool("mlp_bias", false) {
		return nil, fmt.Errorf("hfref: ModernBERT with attention or MLP biases")
	}
	every := c.int("global_attn_every_n_layers", 3)
	m.full = make([]bool, m.layers)
	for i := range m.full {
		m.full[i] = i%every == 0
	}
	if lt, ok := config["layer_types"].([]any); ok {
		for i, t := range lt {
			m.full[i] = t == "full_attention"
		}
	}
	if m.hidden%m.heads != 0 {
		return nil, fmt.Errorf("hfref: hidden %d for %d heads", m.hidden, m.heads)
	}
	return m, nil
}

// linear is nn.Linear without bias: x·Wᵀ, W stored (out, in).
func (m *modernBert) linear(path string, x [][]float64, out int) [][]float64 {
	in := len(x[0])
	w := m.e.get(path+".weight", out*in)
	y := make([][]float64, len(x))
	for i, row := range x {
		y[i] = make([]float64, out)
		for o := range out {
			var s float64
			for k, v := range row {
				s += v * w[o*in+k]
			}
			y[i][o] = s
		}
	}
	return y
}

// layerNorm is nn.LayerNorm(hidden, eps=norm_eps, bias=norm_bias).
func (m *modernBert) layerNorm(path string, x [][]float64) [][]float64 {
	g := m.e.get(path+".weight", m.hidden)
	b := make([]float64, m.hidden)
	if m.normBias {
		b = m.e.get(path+".bias", m.hidden)
	}
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
			y[i][j] = (v-mean)/math.Sqrt(vr+m.eps)*g[j] + b[j]
		}
	}
	return y
}

// rotate applies q*cos + rotate_half(q)*sin to each head of x at position
// pos: inv_freq = 1/theta^(2j/head_dim), cos and sin of cat(freqs, freqs).
func (m *modernBert) rotate(x []float64, pos int, theta float64) {
	d := m.hidden / m.heads
	half := d / 2
	for h := 0; h < m.heads; h++ {
		v := x[h*d : (h+1)*d]
		for j := range half {
			a := float64(pos) / math.Pow(theta, float64(2*j)/float64(d))
			c, s := math.Cos(a), math.Sin(a)
			x0, x1 := v[j], v[j+half]
			v[j], v[j+half] = x0*c-x1*s, x1*c+x0*s
		}
	}
}

func (m *modernBert) forward(ids []int) [][]float64 {
	p, h := m.prefix, m.hidden
	emb := m.e.get(p+"embeddings.tok_embeddings.weight", m.vocab*h)
	x := make([][]float64, len(ids))
	for i, id := range ids {
		if (id+1)*h > len(emb) {
			m.e.err = fmt.Errorf("hfref: token %d outside the embeddings", id)
			return x
		}
		x[i] = append([]float64(nil), emb[id*h:(id+1)*h]...)
	}
	x = m.layerNorm(p+"embeddings.norm", x)
	for l := range m.layers {
		x = m.block(fmt.Sprintf("%slayers.%d.", p, l), l, x)
	}
	return m.layerNorm(p+"final_norm", x)
}

func (m *modernBert) block(p string, l int, x [][]float64) [][]float64 {
	h, d := m.hidden, m.hidden/m.heads
	a := x
	if l > 0 {
		a = m.layerNorm(p+"attn_norm", x)
	}
	qkv := m.linear(p+"attn.Wqkv", a, 3*h)
	theta, window := m.localTh, m.window
	if m.full[l] {
		theta, window = m.globalTh, len(x)
	}
	q, k, v := make([][]float64, len(x)), make([][]float64, len(x)), make([][]float64, len(x))
	for i, row := range qkv {
		q[i], k[i], v[i] = row[:h], row[h:2*h], row[2*h:]
		m.rotate(q[i], i, theta)
		m.rotate(k[i], i, theta)
	}
	ctx := make([][]float64, len(x))
	for i := range ctx {
		ctx[i] = make([]float64, h)
		for hd := range m.heads {
			scores := make([]float64, len(x))
			mx := math.Inf(-1)
			for j := range x {
				scores[j] = math.Inf(-1) // masked
				if abs(i-j) > window {
					continue
				}
				var s float64
				for c := range d {
					s += q[i][hd*d+c] * k[j][hd*d+c]
				}
				scores[j] = s * math.Pow(float64(d), -0.5)
				mx = max(mx, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			for j := range x {
				for c := range d {
					ctx[i][hd*d+c] += scores[j] / sum * v[j][hd*d+c]
				}
			}
		}
	}
	x = sum2(x, m.linear(p+"attn.Wo", ctx, h))
	wi := m.linear(p+"mlp.Wi", m.layerNorm(p+"mlp_norm", x), 2*m.inter)
	g := make([][]float64, len(x))
	for i, row := range wi {
		g[i] = make([]float64, m.inter)
		for j := range m.inter {
			g[i][j] = m.gelu(row[j]) * row[m.inter+j]
		}
	}
	return sum2(x, m.linear(p+"mlp.Wo", g, h))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
