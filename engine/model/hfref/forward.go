package hfref

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is one weight in float64, row-major.
type Tensor struct {
	Shape []int
	Data  []float64
}

// Tensors are the weights by their Hugging Face names ("model.layers.0.self_attn.q_proj.weight").
type Tensors map[string]Tensor

// Logits runs the model of config (config.json as a map) and weights over ids
// and returns the logits of every position, (len(ids), vocab).
func Logits(config map[string]any, w Tensors, ids []int) ([][]float64, error) {
	f, err := parse(config)
	if err != nil {
		return nil, err
	}
	m := &run{f: f, w: w, n: len(ids)}
	return m.forward(ids)
}

type run struct {
	f   *family
	w   Tensors
	n   int     // sequence length
	img *images // nil: a text-only prompt
	err error
}

func (m *run) tensor(name string, shape ...int) []float64 {
	t, ok := m.w[name]
	if !ok {
		m.fail(fmt.Errorf("hfref: missing tensor %s", name))
		return make([]float64, prod(shape))
	}
	if prod(t.Shape) != prod(shape) || len(t.Data) != prod(shape) {
		m.fail(fmt.Errorf("hfref: %s has shape %v, want %v", name, t.Shape, shape))
		return make([]float64, prod(shape))
	}
	return t.Data
}

func (m *run) fail(err error) {
	if m.err == nil {
		m.err = err
	}
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// linear is nn.Linear over every position: x (n, in) → (n, out).
func (m *run) linear(name string, x [][]float64, out, in int, bias bool) [][]float64 {
	w := m.tensor(name+".weight", out, in)
	var b []float64
	if bias {
		b = m.tensor(name+".bias", out)
	}
	y := make([][]float64, len(x))
	for t, row := range x {
		y[t] = make([]float64, out)
		for o := range out {
			var s float64
			for i, v := range row {
				s += w[o*in+i] * v
			}
			if b != nil {
				s += b[o]
			}
			y[t][o] = s
		}
	}
	return y
}

// rmsNorm is LlamaRMSNorm (x/rms * w) or, with gemma, Gemma's (x/rms * (1+w)).
func rmsNorm(x, w []float64, eps float64, gemma bool) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	r := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i, v := range x {
		g := w[i]
		if gemma {
			g = 1 + w[i]
		}
		y[i] = v * r * g
	}
	return y
}

func (m *run) norm(name string, x [][]float64) [][]float64 {
	w := m.tensor(name+".weight", len(x[0]))
	y := make([][]float64, len(x))
	for t := range x {
		y[t] = rmsNorm(x[t], w, m.f.eps, m.gemma())
	}
	return y
}

func (m *run) gemma() bool { return strings.HasPrefix(m.f.arch, "Gemma") }

func act(name string, x float64) (float64, error) {
	switch name {
	case "silu":
		return x / (1 + math.Exp(-x)), nil
	case "gelu_pytorch_tanh", "gelu_new":
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))), nil
	case "gelu":
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)), nil
	case "quick_gelu":
		return x * (1 / (1 + math.Exp(-1.702*x))), nil
	}
	return 0, fmt.Errorf("hfref: activation %q", name)
}

func softcap(x, cap float64) float64 { return math.Tanh(x/cap) * cap }

func (m *run) forward(ids []int) ([][]float64, error) {
	f := m.f
	if len(ids) == 0 {
		return nil, fmt.Errorf("hfref: no tokens")
	}
	embed := m.tensor("model.embed_tokens.weight", f.vocab, f.hidden)
	if m.err != nil {
		return nil, m.err
	}
	scale := f.embedMult
	if m.gemma() {
		scale = roundTo(f.dtype, math.Sqrt(float64(f.hidden)))
	}
	x := make([][]float64, len(ids))
	next := 0 // the next image feature row
	for t, id := range ids {
		if m.img != nil && id == m.img.token {
			x[t] = append([]float64(nil), m.img.feats[next]...)
			next++
			continue
		}
		if id < 0 || id >= f.vocab {
			return nil, fmt.Errorf("hfref: token %d outside vocabulary of %d", id, f.vocab)
		}
		x[t] = make([]float64, f.hidden)
		for i := range f.hidden {
			x[t][i] = embed[id*f.hidden+i] * scale
		}
	}
	for l := range f.layers {
		x = m.layer(l, x)
		if m.err != nil {
			return nil, m.err
		}
	}
	x = m.norm("model.norm", x)
	head := "lm_head"
	if f.tied {
		head = "model.embed_tokens"
	}
	logits := m.linear(head, x, f.vocab, f.hidden, false)
	for _, row := range logits {
		for i := range row {
			row[i] /= f.logitsScaling
			if f.finalSoftcap > 0 {
				row[i] = softcap(row[i], f.finalSoftcap)
			}
		}
	}
	return logits, m.err
}

// layer is one decoder layer in the family's own arrangement of norms and
// residuals.
func (m *run) layer(l int, x [][]float64) [][]float64 {
	p := fmt.Sprintf("model.layers.%d.", l)
	switch {
	case m.gemma(): // Gemma2DecoderLayer, Gemma3DecoderLayer: four norms
		h := m.norm(p+"post_attention_layernorm", m.attention(l, p, m.norm(p+"input_layernorm", x)))
		x = add(x, h, 1)
		h = m.norm(p+"post_feedforward_layernorm", m.mlp(p, m.norm(p+"pre_feedforward_layernorm", x)))
		return add(x, h, 1)
	case m.f.arch == "Olmo2ForCausalLM": // norms after the blocks, none before
		x = add(x, m.norm(p+"post_attention_layernorm", m.attention(l, p, x)), 1)
		return add(x, m.norm(p+"post_feedforward_layernorm", m.mlp(p, x)), 1)
	case m.f.arch == "GptOssForCausalLM": // GptOssDecoderLayer
		x = add(x, m.attention(l, p, m.norm(p+"input_layernorm", x)), 1)
		return add(x, m.gptOssMLP(p, m.norm(p+"post_attention_layernorm", x)), 1)
	case m.f.moe.sparse != nil: // Qwen3MoeDecoderLayer, MixtralDecoderLayer
		x = add(x, m.attention(l, p, m.norm(p+"input_layernorm", x)), 1)
		h := m.norm(p+"post_attention_layernorm", x)
		if m.f.moe.sparse[l] {
			return add(x, m.sparseMLP(p, h), 1)
		}
		return add(x, m.mlp(p, h), 1)
	default: // Llama arrangement; Granite scales each block's output
		x = add(x, m.attention(l, p, m.norm(p+"input_layernorm", x)), m.f.residualMult)
		return add(x, m.mlp(p, m.norm(p+"post_attention_layernorm", x)), m.f.residualMult)
	}
}

func add(x, h [][]float64, s float64) [][]float64 {
	y := make([][]float64, len(x))
	for t := range x {
		y[t] = make([]float64, len(x[t]))
		for i := range x[t] {
			y[t][i] = x[t][i] + h[t][i]*s
		}
	}
	return y
}

func (m *run) mlp(p string, x [][]float64) [][]float64 {
	f := m.f
	var gate, up [][]float64
	if f.arch == "Phi3ForCausalLM" { // gate_up_proj: gate rows first, then up
		gu := m.linear(p+"mlp.gate_up_proj", x, 2*f.inter, f.hidden, false)
		gate, up = make([][]float64, len(x)), make([][]float64, len(x))
		for t := range gu {
			gate[t], up[t] = gu[t][:f.inter], gu[t][f.inter:]
		}
	} else {
		gate = m.linear(p+"mlp.gate_proj", x, f.inter, f.hidden, f.mlpBias)
		up = m.linear(p+"mlp.up_proj", x, f.inter, f.hidden, f.mlpBias)
	}
	h := make([][]float64, len(x))
	for t := range x {
		h[t] = make([]float64, f.inter)
		for i := range f.inter {
			a, err := act(f.act, gate[t][i])
			if err != nil {
				m.fail(err)
			}
			h[t][i] = a * up[t][i]
		}
	}
	return m.linear(p+"mlp.down_proj", h, f.hidden, f.inter, f.mlpBias)
}

// attention is the family's self-attention over the whole sequence with the
// causal (and, on sliding layers, windowed) mask.
func (m *run) attention(l int, p string, x [][]float64) [][]float64 {
	f := m.f
	qd, kd := f.heads*f.headDim, f.kvHeads*f.headDim
	var q, k, v [][]float64
	if f.arch == "Phi3ForCausalLM" { // qkv_proj: q rows, then k, then v
		qkv := m.linear(p+"self_attn.qkv_proj", x, qd+2*kd, f.hidden, false)
		q, k, v = make([][]float64, len(x)), make([][]float64, len(x)), make([][]float64, len(x))
		for t := range qkv {
			q[t], k[t], v[t] = qkv[t][:qd], qkv[t][qd:qd+kd], qkv[t][qd+kd:]
		}
	} else {
		q = m.linear(p+"self_attn.q_proj", x, qd, f.hidden, f.attnBias)
		k = m.linear(p+"self_attn.k_proj", x, kd, f.hidden, f.attnBias)
		v = m.linear(p+"self_attn.v_proj", x, kd, f.hidden, f.attnBias)
	}
	switch f.arch {
	case "Olmo2ForCausalLM": // q_norm and k_norm over the whole projection
		q, k = m.norm(p+"self_attn.q_norm", q), m.norm(p+"self_attn.k_norm", k)
	case "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration", "Qwen3MoeForCausalLM", "Qwen3ForCausalLM": // per head
		q, k = m.headNorm(p+"self_attn.q_norm", q), m.headNorm(p+"self_attn.k_norm", k)
	}
	if f.ropeLayer[l] {
		r := f.globalRope
		if f.localRope.theta != 0 && f.slidingLayer[l] {
			r = f.localRope
		}
		cos, sin := r.table(f.rotaryDim, len(x))
		m.rotate(q, f.heads, cos, sin)
		m.rotate(k, f.kvHeads, cos, sin)
	}
	out := make([][]float64, len(x))
	group := f.heads / f.kvHeads
	var sinks []float64 // GptOssAttention.sinks
	if f.arch == "GptOssForCausalLM" {
		sinks = m.tensor(p+"self_attn.sinks", f.heads)
	}
	for i := range x {
		out[i] = make([]float64, qd)
		for h := range f.heads {
			kh := h / group // repeat_kv: query head h reads key/value head h/group
			qi := q[i][h*f.headDim : (h+1)*f.headDim]
			scores := make([]float64, len(x))
			max := math.Inf(-1)
			for j := range x {
				if !m.img.sameImage(i, j) && (j > i || f.slidingLayer[l] && i-j >= f.window) {
					scores[j] = math.Inf(-1)
					continue
				}
				var s float64
				for d, qv := range qi {
					s += qv * k[j][kh*f.headDim+d]
				}
				s *= f.scale
				if f.attnSoftcap > 0 {
					s = softcap(s, f.attnSoftcap)
				}
				scores[j] = s
				max = math.Max(max, s)
			}
			var sum float64
			if sinks != nil {
				// eager_attention_forward: the sink is one more logit of the
				// row, counted in the softmax and then dropped.
				max = math.Max(max, sinks[h])
				sum = math.Exp(sinks[h] - max)
			}
			for j := range scores {
				scores[j] = math.Exp(scores[j] - max)
				sum += scores[j]
			}
			for j, a := range scores {
				for d := range f.headDim {
					out[i][h*f.headDim+d] += a / sum * v[j][kh*f.headDim+d]
				}
			}
		}
	}
	return m.linear(p+"self_attn.o_proj", out, f.hidden, qd, f.attnBias && f.arch != "Phi3ForCausalLM")
}

func (m *run) headNorm(name string, x [][]float64) [][]float64 {
	d := m.f.headDim
	w := m.tensor(name+".weight", d)
	y := make([][]float64, len(x))
	for t := range x {
		y[t] = make([]float64, 0, len(x[t]))
		for h := 0; h < len(x[t]); h += d {
			y[t] = append(y[t], rmsNorm(x[t][h:h+d], w, m.f.eps, m.gemma())...)
		}
	}
	return y
}

// rotate applies apply_rotary_pos_emb in place to the first len(cos[t]) values
// of each head (Phi-3's partial rotary leaves the rest as they are), with
// rotate_half's pairing of i and i+dim/2.
func (m *run) rotate(x [][]float64, heads int, cos, sin [][]float64) {
	d := m.f.headDim
	for t := range x {
		dim := len(cos[t])
		for h := range heads {
			v := x[t][h*d : h*d+dim]
			old := append([]float64(nil), v...)
			for i := range dim {
				var rot float64 // rotate_half(x)[i]
				if i < dim/2 {
					rot = -old[i+dim/2]
				} else {
					rot = old[i-dim/2]
				}
				v[i] = old[i]*cos[t][i] + rot*sin[t][i]
			}
		}
	}
}

// table is the rotary embedding's cos and sin for positions 0..n-1, each of
// dim values (the frequencies concatenated twice), already multiplied by the
// attention scaling, as the RotaryEmbedding modules return them.
func (r rope) table(dim, n int) (cos, sin [][]float64) {
	inv := make([]float64, dim/2)
	attn := 1.0
	for i := range inv {
		inv[i] = 1 / math.Pow(r.theta, float64(2*i)/float64(dim))
	}
	switch r.kind {
	case "linear":
		for i := range inv {
			inv[i] /= r.factor
		}
	case "longrope":
		// dynamic_rope_update: long factors once the sequence (max position + 1)
		// is longer than the original context, short ones otherwise.
		ext := r.short
		if n > r.origMax {
			ext = r.long
		}
		for i := range inv {
			inv[i] /= ext[i]
		}
		factor := r.factor
		if factor == 0 {
			factor = float64(r.maxPos) / float64(r.origMax)
		}
		attn = r.attnScale
		if attn == 0 {
			attn = 1
			if factor > 1 {
				attn = math.Sqrt(1 + math.Log(factor)/math.Log(float64(r.origMax)))
			}
		}
	case "yarn":
		inv, attn = r.yarn.freqs(r.theta, dim)
	case "llama3":
		lowWave, highWave := float64(r.origMax)/r.lowFreq, float64(r.origMax)/r.highFreq
		for i, f := range inv {
			wave := 2 * math.Pi / f
			switch {
			case wave < highWave:
			case wave > lowWave:
				inv[i] = f / r.factor
			default:
				s := (float64(r.origMax)/wave - r.lowFreq) / (r.highFreq - r.lowFreq)
				inv[i] = (1-s)*f/r.factor + s*f
			}
		}
	}
	cos, sin = make([][]float64, n), make([][]float64, n)
	for t := range n {
		cos[t], sin[t] = make([]float64, dim), make([]float64, dim)
		for i := range dim {
			a := float64(t) * inv[i%(dim/2)]
			cos[t][i], sin[t][i] = math.Cos(a)*attn, math.Sin(a)*attn
		}
	}
	return cos, sin
}

// roundTo rounds v to the torch dtype the model runs in, as Gemma's
// embedding normalizer is.
func roundTo(dtype string, v float64) float64 {
	f := float32(v)
	switch dtype {
	case "bfloat16":
		b := math.Float32bits(f)
		b += 0x7fff + (b>>16)&1
		return float64(math.Float32frombits(b &^ 0xffff))
	case "float16":
		return float64(f16(f))
	}
	return float64(f)
}

// f16 rounds to the nearest float16 value (normal range, which sqrt(hidden) is in).
func f16(f float32) float32 {
	e := math.Floor(math.Log2(float64(f)))
	ulp := math.Pow(2, e-10)
	return float32(math.RoundToEven(float64(f)/ulp) * ulp)
}
