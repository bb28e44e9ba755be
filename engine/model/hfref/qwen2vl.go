package hfref

import (
	"fmt"
	"math"
	"slices"
)

// Qwen2.5-VL's text side, from transformers' modeling_qwen2_5_vl.py:
// Qwen2_5_VLModel.get_rope_index (the three-dimensional position ids of
// text and image tokens), Qwen2_5_VLRotaryEmbedding (cos and sin per
// position component) and apply_multimodal_rotary_pos_emb (mrope_section
// doubled, cos and sin split into its runs, run i taken from component
// i % 3), the image features scattered over the image tokens in order
// (masked_scatter), and the Qwen2 decoder (q, k and v biases, o without;
// RMSNorm; SiLU MLP) with its causal mask. The vision tower is not here.
// modeling_qwen2_vl.py (Qwen2-VL) computes the same for images: its
// get_rope_index takes an image's temporal index from arange over its one
// temporal step, 0, as Qwen2.5-VL's zero second_per_grid_t does.

// qwen2vl is a Qwen2_5_VLConfig's text model and M-RoPE settings.
type qwen2vl struct {
	hidden, inter, layers, heads, kvHeads, headDim, vocab int
	eps, theta                                            float64
	tied                                                  bool
	section                                               []int
	imageToken, visionStart, merge                        int
}

func parseQwen2VL(raw map[string]any) (*qwen2vl, error) {
	top := cfg(raw)
	c := top
	if tc := top.sub("text_config"); tc != nil { // transformers ≥ 4.52
		c = tc
	}
	vc := top.sub("vision_config")
	if vc == nil {
		vc = cfg{}
	}
	// Qwen2_5_VLTextConfig's defaults.
	q := &qwen2vl{hidden: c.int("hidden_size", 8192), inter: c.int("intermediate_size", 29568),
		layers: c.int("num_hidden_layers", 80), heads: c.int("num_attention_heads", 64),
		vocab: c.int("vocab_size", 152064), eps: c.num("rms_norm_eps", 1e-5), theta: c.num("rope_theta", 1000000),
		tied:       top.bool("tie_word_embeddings", c.bool("tie_word_embeddings", false)),
		imageToken: top.int("image_token_id", 151655), visionStart: top.int("vision_start_token_id", 151652),
		merge: vc.int("spatial_merge_size", 2)}
	q.kvHeads = c.int("num_key_value_heads", q.heads)
	rs := c.sub("rope_scaling")
	if rs == nil {
		rs = top.sub("rope_scaling")
	}
	for _, v := range rs.floats("mrope_section") {
		q.section = append(q.section, int(v))
	}
	if q.heads <= 0 || q.hidden%q.heads != 0 || q.kvHeads <= 0 || q.heads%q.kvHeads != 0 {
		return nil, fmt.Errorf("hfref: qwen2_5_vl: %d heads, %d kv heads for hidden %d", q.heads, q.kvHeads, q.hidden)
	}
	q.headDim = q.hidden / q.heads // Qwen2_5_VLAttention ignores head_dim
	sum := 0
	for _, s := range q.section {
		sum += s
	}
	if len(q.section) != 3 || 2*sum != q.headDim {
		return nil, fmt.Errorf("hfref: qwen2_5_vl: mrope_section %v for head_dim %d", q.section, q.headDim)
	}
	return q, nil
}

// Qwen2VLRopeIndex is get_rope_index for one unpadded sequence of ids with
// images (no videos): grids are image_grid_thw, in patches before the
// spatial merge. It returns position_ids (3, len(ids)) and
// mrope_position_deltas.
func Qwen2VLRopeIndex(config map[string]any, ids []int, grids [][3]int) ([3][]int, int, error) {
	q, err := parseQwen2VL(config)
	if err != nil {
		return [3][]int{}, 0, err
	}
	return q.ropeIndex(ids, grids)
}

func (q *qwen2vl) ropeIndex(ids []int, grids [][3]int) ([3][]int, int, error) {
	var pos [3][]int
	if len(grids) == 0 { // the text-only branch: arange for all three
		for c := range pos {
			for t := range ids {
				pos[c] = append(pos[c], t)
			}
		}
		return pos, 0, nil
	}
	images := 0 // vision_start tokens followed by an image token
	for t := 0; t+1 < len(ids); t++ {
		if ids[t] == q.visionStart && ids[t+1] == q.imageToken {
			images++
		}
	}
	if images > len(grids) {
		return pos, 0, fmt.Errorf("hfref: %d images in the prompt, %d grids", images, len(grids))
	}
	maxPos := func() int { // llm_pos_ids_list[-1].max()
		m := math.MinInt
		for c := range pos {
			m = max(m, pos[c][len(pos[c])-1])
		}
		return m
	}
	st := 0
	for k := range images {
		ed := slices.Index(ids[st:], q.imageToken)
		if ed < 0 {
			return pos, 0, fmt.Errorf("hfref: image %d has no image token after %d", k, st)
		}
		ed += st
		t, h, w := grids[k][0], grids[k][1]/q.merge, grids[k][2]/q.merge
		textLen := ed - st
		stIdx := 0
		if len(pos[0]) > 0 {
			stIdx = maxPos() + 1
		}
		for i := range textLen {
			for c := range pos {
				pos[c] = append(pos[c], stIdx+i)
			}
		}
		for ti := range t {
			// time_tensor: expanded_range * second_per_grid_t *
			// tokens_per_second, and an image's second_per_grid_t is 0.
			timeIdx := ti * 0
			for hi := range h {
				for wi := range w {
					pos[0] = append(pos[0], timeIdx+textLen+stIdx)
					pos[1] = append(pos[1], hi+textLen+stIdx)
					pos[2] = append(pos[2], wi+textLen+stIdx)
				}
			}
		}
		st = ed + t*h*w
	}
	if st < len(ids) {
		stIdx := 0
		if len(pos[0]) > 0 {
			stIdx = maxPos() + 1
		}
		for i := range len(ids) - st {
			for c := range pos {
				pos[c] = append(pos[c], stIdx+i)
			}
		}
	}
	if len(pos[0]) != len(ids) {
		return pos, 0, fmt.Errorf("hfref: %d position ids for %d tokens: the image tokens do not match the grids", len(pos[0]), len(ids))
	}
	return pos, maxPos() + 1 - len(ids), nil
}

// Qwen2VLLogits is Qwen2_5_VLForConditionalGeneration's forward over ids
// whose images are runs of image_token_id after a vision_start token: feats
// are the tower's output for all the images, in order (t·h·w/merge² rows
// of the text model's width each), grids their image_grid_thw. It returns
// the logits of every position.
func Qwen2VLLogits(config map[string]any, w Tensors, ids []int, grids [][3]int, feats [][]float64) ([][]float64, error) {
	q, err := parseQwen2VL(config)
	if err != nil {
		return nil, err
	}
	pos, _, err := q.ropeIndex(ids, grids)
	if err != nil {
		return nil, err
	}
	m := &run{w: w, n: len(ids)}
	embed := m.tensor("model.embed_tokens.weight", q.vocab, q.hidden)
	if m.err != nil {
		return nil, m.err
	}
	x := make([][]float64, len(ids))
	next := 0
	for t, id := range ids {
		if id == q.imageToken && len(grids) > 0 {
			if next == len(feats) {
				return nil, fmt.Errorf("hfref: more image tokens than the %d image features", len(feats))
			}
			x[t] = slices.Clone(feats[next])
			next++
			continue
		}
		if id < 0 || id >= q.vocab {
			return nil, fmt.Errorf("hfref: token %d outside vocabulary of %d", id, q.vocab)
		}
		x[t] = slices.Clone(embed[id*q.hidden : (id+1)*q.hidden])
	}
	if next != len(feats) {
		return nil, fmt.Errorf("hfref: %d image tokens, %d image features", next, len(feats))
	}
	cos, sin := q.rotary(pos)
	for l := range q.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		x = add(x, q.attention(m, p, q.norm(m, p+"input_layernorm", x), cos, sin), 1)
		x = add(x, q.mlp(m, p, q.norm(m, p+"post_attention_layernorm", x)), 1)
		if m.err != nil {
			return nil, m.err
		}
	}
	x = q.norm(m, "model.norm", x)
	head := "lm_head"
	if q.tied {
		head = "model.embed_tokens"
	}
	logits := m.linear(head, x, q.vocab, q.hidden, false)
	return logits, m.err
}

func (q *qwen2vl) norm(m *run, name string, x [][]float64) [][]float64 {
	w := m.tensor(name+".weight", q.hidden)
	y := make([][]float64, len(x))
	for t := range x {
		y[t] = rmsNorm(x[t], w, q.eps, false)
	}
	return y
}

// rotary is Qwen2_5_VLRotaryEmbedding for the three position components
// followed by apply_multimodal_rotary_pos_emb's selection: cos and sin
// (tokens, head_dim) in which the runs of mrope_section*2 come from
// components 0, 1, 2, 0, 1, 2.
func (q *qwen2vl) rotary(pos [3][]int) (cos, sin [][]float64) {
	d := q.headDim
	inv := make([]float64, d/2)
	for i := range inv {
		inv[i] = 1 / math.Pow(q.theta, float64(2*i)/float64(d))
	}
	var comp []int // the component of each of the head_dim values
	for i, n := range append(slices.Clone(q.section), q.section...) {
		for range n {
			comp = append(comp, i%3)
		}
	}
	n := len(pos[0])
	cos, sin = make([][]float64, n), make([][]float64, n)
	for t := range n {
		cos[t], sin[t] = make([]float64, d), make([]float64, d)
		for j := range d {
			// emb = cat(freqs, freqs): value j turns at inv[j % (d/2)].
			a := float64(pos[comp[j]][t]) * inv[j%(d/2)]
			cos[t][j], sin[t][j] = math.Cos(a), math.Sin(a)
		}
	}
	return cos, sin
}

// attention is Qwen2_5_VLAttention with the causal mask.
func (q *qwen2vl) attention(m *run, p string, x, cos, sin [][]float64) [][]float64 {
	d := q.headDim
	qd, kd := q.heads*d, q.kvHeads*d
	qs := m.linear(p+"self_attn.q_proj", x, qd, q.hidden, true)
	ks := m.linear(p+"self_attn.k_proj", x, kd, q.hidden, true)
	vs := m.linear(p+"self_attn.v_proj", x, kd, q.hidden, true)
	rope := func(v []float64, t int) { // q*cos + rotate_half(q)*sin for one head
		old := slices.Clone(v)
		for i := range d {
			var rot float64 // rotate_half(x)[i]: cat(-x2, x1)
			if i < d/2 {
				rot = -old[i+d/2]
			} else {
				rot = old[i-d/2]
			}
			v[i] = old[i]*cos[t][i] + rot*sin[t][i]
		}
	}
	for t := range x {
		for h := range q.heads {
			rope(qs[t][h*d:(h+1)*d], t)
		}
		for h := range q.kvHeads {
			rope(ks[t][h*d:(h+1)*d], t)
		}
	}
	scale := 1 / math.Sqrt(float64(d))
	group := q.heads / q.kvHeads
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = make([]float64, qd)
		for h := range q.heads {
			kh := h / group
			scores := make([]float64, i+1)
			top := math.Inf(-1)
			for j := range i + 1 {
				var s float64
				for e := range d {
					s += qs[i][h*d+e] * ks[j][kh*d+e]
				}
				scores[j] = s * scale
				top = math.Max(top, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - top)
				sum += scores[j]
			}
			for j, a := range scores {
				for e := range d {
					out[i][h*d+e] += a / sum * vs[j][kh*d+e]
				}
			}
		}
	}
	return m.linear(p+"self_attn.o_proj", out, q.hidden, qd, false)
}

// mlp is Qwen2MLP: down(silu(gate(x)) * up(x)), no biases.
func (q *qwen2vl) mlp(m *run, p string, x [][]float64) [][]float64 {
	gate := m.linear(p+"mlp.gate_proj", x, q.inter, q.hidden, false)
	up := m.linear(p+"mlp.up_proj", x, q.inter, q.hidden, false)
	h := make([][]float64, len(x))
	for t := range x {
		h[t] = make([]float64, q.inter)
		for i, g := range gate[t] {
			h[t][i] = g / (1 + math.Exp(-g)) * up[t][i]
		}
	}
	return m.linear(p+"mlp.down_proj", h, q.hidden, q.inter, false)
}
