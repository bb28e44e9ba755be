package hfref

import (
	"fmt"
	"math"
)

// Qwen2.5-VL's vision tower, from transformers' modeling_qwen2_5_vl.py
// (Qwen2_5_VisionTransformerPretrainedModel.forward, rot_pos_emb,
// get_window_index, Qwen2_5_VisionPatchEmbed, Qwen2_5_VisionRotaryEmbedding,
// Qwen2_5_VLVisionBlock, Qwen2_5_VLVisionAttention, Qwen2_5_VLMLP,
// Qwen2_5_VLPatchMerger), step by step as the Python reshapes and permutes
// its tensors, for one image.

// qwenVision is a Qwen2_5_VLVisionConfig with its class defaults.
type qwenVision struct {
	depth, hidden, inter, heads, channels, patch, temporal, merge, window, out int
	full                                                                       map[int]bool
	act                                                                        string
}

func parseQwenVision(raw map[string]any) (*qwenVision, error) {
	vc := cfg(raw).sub("vision_config")
	if vc == nil {
		return nil, fmt.Errorf("hfref: config has no vision_config")
	}
	v := &qwenVision{
		depth: vc.int("depth", 32), hidden: vc.int("hidden_size", 3584), inter: vc.int("intermediate_size", 3420),
		heads: vc.int("num_heads", 16), channels: vc.int("in_channels", vc.int("in_chans", 3)), patch: vc.int("patch_size", 14),
		temporal: vc.int("temporal_patch_size", 2), merge: vc.int("spatial_merge_size", 2), window: vc.int("window_size", 112),
		out: vc.int("out_hidden_size", 3584), act: vc.str("hidden_act", "silu"), full: map[int]bool{},
	}
	idx := []float64{7, 15, 23, 31}
	if vc.has("fullatt_block_indexes") {
		idx = vc.floats("fullatt_block_indexes")
	}
	for _, i := range idx {
		v.full[int(i)] = true
	}
	if v.heads <= 0 || v.hidden%v.heads != 0 || v.merge <= 0 || v.patch <= 0 || v.window/v.merge/v.patch <= 0 {
		return nil, fmt.Errorf("hfref: vision_config %v", vc)
	}
	return v, nil
}

// QwenWindowIndex is get_window_index for one image of grid (t, h, w)
// patches: the window index over merged units and cu_window_seqlens in
// patches, with torch.unique_consecutive applied as forward does.
func QwenWindowIndex(grid [3]int, windowSize, merge, patch int) (index, cu []int) {
	vit := windowSize / merge / patch
	gt, lh, lw := grid[0], grid[1]/merge, grid[2]/merge
	padH, padW := vit-lh%vit, vit-lw%vit
	nh, nw := (lh+padH)/vit, (lw+padW)/vit
	// index (t, lh, lw) padded with -100 to (t, lh+padH, lw+padW), reshaped
	// (t, nh, vit, nw, vit), permuted (0, 1, 3, 2, 4) and flattened.
	padded := func(f, y, x int) int {
		if y >= lh || x >= lw {
			return -100
		}
		return (f*lh+y)*lw + x
	}
	cu = []int{0}
	for f := range gt {
		for a := range nh {
			for b := range nw {
				n := 0
				for i := range vit {
					for j := range vit {
						if v := padded(f, a*vit+i, b*vit+j); v != -100 {
							index = append(index, v)
							n++
						}
					}
				}
				// seqlens.cumsum(0) * spatial_merge_unit + cu_window_seqlens[-1]
				cu = append(cu, cu[len(cu)-1]+n*merge*merge)
			}
		}
	}
	uniq := cu[:1]
	for _, c := range cu[1:] {
		if c != uniq[len(uniq)-1] {
			uniq = append(uniq, c)
		}
	}
	return index, uniq
}

// QwenPositions is rot_pos_emb's pos_ids for one image: the (row, column)
// of each patch in the processor's order.
func QwenPositions(grid [3]int, merge int) [][2]int {
	t, h, w := grid[0], grid[1], grid[2]
	var out [][2]int
	for range t {
		// arange(h) expanded to (h, w), reshaped (h/m, m, w/m, m), permuted
		// (0, 2, 1, 3), flattened: the same for the columns.
		for a := range h / merge {
			for b := range w / merge {
				for i := range merge {
					for j := range merge {
						out = append(out, [2]int{a*merge + i, b*merge + j})
					}
				}
			}
		}
	}
	return out
}

// QwenImageFeatures is Qwen2_5_VisionTransformerPretrainedModel.forward on
// one image: pixels (t·h·w, channels·temporal·patch·patch) as the image
// processor flattens them, grid (t, h, w) in patches → (t·h·w/merge²,
// out_hidden_size), the embeddings of the image's tokens. The tower's
// tensors are under "visual." or "model.visual.".
func QwenImageFeatures(config map[string]any, w Tensors, pixels []float64, grid [3]int) ([][]float64, error) {
	v, err := parseQwenVision(config)
	if err != nil {
		return nil, err
	}
	m := &run{w: w}
	p := "visual."
	if _, ok := w["model.visual.patch_embed.proj.weight"]; ok {
		p = "model.visual."
	}
	out := m.qwenTower(v, p, pixels, grid)
	return out, m.err
}

func (m *run) qwenTower(v *qwenVision, p string, pixels []float64, grid [3]int) [][]float64 {
	n, in := grid[0]*grid[1]*grid[2], v.channels*v.temporal*v.patch*v.patch
	if len(pixels) != n*in || grid[1]%v.merge != 0 || grid[2]%v.merge != 0 {
		m.fail(fmt.Errorf("hfref: %d pixel values for a grid %v", len(pixels), grid))
		return nil
	}
	// patch_embed: view(-1, C, T, P, P) through Conv3d(kernel = stride =
	// (T, P, P), no bias): one output per patch, the kernel's dot product.
	kw := m.tensor(p+"patch_embed.proj.weight", v.hidden, v.channels, v.temporal, v.patch, v.patch)
	x := make([][]float64, n)
	for r := range n {
		x[r] = make([]float64, v.hidden)
		for o := range v.hidden {
			var s float64
			for i := range in {
				s += kw[o*in+i] * pixels[r*in+i]
			}
			x[r][o] = s
		}
	}
	// rot_pos_emb: rotary_pos_emb_full[pos_ids].flatten(1), (n, head_dim/2).
	hd := v.hidden / v.heads
	dim := hd / 2
	var invFreq []float64
	for i := 0; i < dim; i += 2 {
		invFreq = append(invFreq, 1/math.Pow(10000, float64(i)/float64(dim)))
	}
	pos := QwenPositions(grid, v.merge)
	rot := make([][]float64, n)
	for r, yx := range pos {
		for _, c := range yx {
			for _, f := range invFreq {
				rot[r] = append(rot[r], float64(c)*f)
			}
		}
	}
	index, cuWindow := QwenWindowIndex(grid, v.window, v.merge, v.patch)
	unit := v.merge * v.merge
	// hidden_states.reshape(n/unit, unit, -1)[window_index].reshape(n, -1), and
	// the same for rotary_pos_emb.
	perm := func(rows [][]float64) [][]float64 {
		out := make([][]float64, 0, len(rows))
		for _, u := range index {
			out = append(out, rows[u*unit:(u+1)*unit]...)
		}
		return out
	}
	x, rot = perm(x), perm(rot)
	// emb = cat(rotary_pos_emb, rotary_pos_emb); cos, sin.
	cos, sin := make([][]float64, n), make([][]float64, n)
	for r := range n {
		emb := append(append([]float64(nil), rot[r]...), rot[r]...)
		for _, a := range emb {
			cos[r] = append(cos[r], math.Cos(a))
			sin[r] = append(sin[r], math.Sin(a))
		}
	}
	// cu_seqlens: repeat_interleave(h*w, t).cumsum, padded with 0.
	cuFull := []int{0}
	for range grid[0] {
		cuFull = append(cuFull, cuFull[len(cuFull)-1]+grid[1]*grid[2])
	}
	for l := range v.depth {
		bp := fmt.Sprintf("%sblocks.%d.", p, l)
		cu := cuWindow
		if v.full[l] {
			cu = cuFull
		}
		h := m.qwenAttention(v, bp+"attn.", m.rms(bp+"norm1.weight", x), cos, sin, cu)
		x = add(x, h, 1)
		h = m.qwenMLP(v, bp+"mlp.", m.rms(bp+"norm2.weight", x))
		x = add(x, h, 1)
	}
	// merger: ln_q, view(-1, hidden·unit), Linear, GELU, Linear.
	x = m.rms(p+"merger.ln_q.weight", x)
	merged := make([][]float64, n/unit)
	for i := range merged {
		for j := range unit {
			merged[i] = append(merged[i], x[i*unit+j]...)
		}
	}
	hm := v.hidden * unit
	y := m.linear(p+"merger.mlp.0", merged, hm, hm, true)
	for _, row := range y {
		for i, e := range row {
			row[i], _ = act("gelu", e)
		}
	}
	y = m.linear(p+"merger.mlp.2", y, v.out, hm, true)
	// hidden_states[argsort(window_index)]
	out := make([][]float64, len(y))
	for i, u := range index {
		out[u] = y[i]
	}
	return out
}

// rms is Qwen2RMSNorm with eps 1e-6 over each row.
func (m *run) rms(name string, x [][]float64) [][]float64 {
	w := m.tensor(name, len(x[0]))
	y := make([][]float64, len(x))
	for r := range x {
		y[r] = rmsNorm(x[r], w, 1e-6, false)
	}
	return y
}

// qwenAttention is Qwen2_5_VLVisionAttention: qkv reshaped (n, 3, heads,
// head_dim), apply_rotary_pos_emb_vision, eager attention within each chunk
// of cu_seqlens, proj.
func (m *run) qwenAttention(v *qwenVision, p string, x, cos, sin [][]float64, cu []int) [][]float64 {
	d, hd := v.hidden, v.hidden/v.heads
	qkv := m.linear(p+"qkv", x, 3*d, d, true)
	n := len(x)
	q, k, val := make([][]float64, n), make([][]float64, n), make([][]float64, n)
	for r := range n {
		q[r], k[r], val[r] = qkv[r][:d], qkv[r][d:2*d], qkv[r][2*d:]
		q[r] = rotateHalf(q[r], cos[r], sin[r], v.heads, hd)
		k[r] = rotateHalf(k[r], cos[r], sin[r], v.heads, hd)
	}
	scale := 1 / math.Sqrt(float64(hd))
	out := make([][]float64, n)
	for c := 1; c < len(cu); c++ {
		lo, hi := cu[c-1], cu[c]
		for i := lo; i < hi; i++ {
			out[i] = make([]float64, d)
			for h := range v.heads {
				scores := make([]float64, hi-lo)
				mx := math.Inf(-1)
				for j := lo; j < hi; j++ {
					var s float64
					for e := range hd {
						s += q[i][h*hd+e] * k[j][h*hd+e]
					}
					scores[j-lo] = s * scale
					mx = math.Max(mx, scores[j-lo])
				}
				var sum float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					sum += scores[j]
				}
				for j, a := range scores {
					for e := range hd {
						out[i][h*hd+e] += a / sum * val[lo+j][h*hd+e]
					}
				}
			}
		}
	}
	return m.linear(p+"proj", out, d, d, true)
}

// rotateHalf is q*cos + rotate_half(q)*sin for each head of one row.
func rotateHalf(x, cos, sin []float64, heads, hd int) []float64 {
	out := make([]float64, len(x))
	half := hd / 2
	for h := range heads {
		for e := range hd {
			var rh float64 // rotate_half: cat(-x2, x1)
			if e < half {
				rh = -x[h*hd+e+half]
			} else {
				rh = x[h*hd+e-half]
			}
			out[h*hd+e] = x[h*hd+e]*cos[e] + rh*sin[e]
		}
	}
	return out
}

// qwenMLP is Qwen2_5_VLMLP with biases: down(act(gate(x)) * up(x)).
func (m *run) qwenMLP(v *qwenVision, p string, x [][]float64) [][]float64 {
	g := m.linear(p+"gate_proj", x, v.inter, v.hidden, true)
	u := m.linear(p+"up_proj", x, v.inter, v.hidden, true)
	for r := range g {
		for i, e := range g[r] {
			a, err := act(v.act, e)
			if err != nil {
				m.fail(err)
			}
			g[r][i] = a * u[r][i]
		}
	}
	return m.linear(p+"down_proj", g, v.hidden, v.inter, true)
}

// Qwen2VLImageFeatures is Qwen2VisionTransformerPretrainedModel.forward
// (modeling_qwen2_vl.py) on one image: Qwen2.5-VL's patch embedding and
// 2-D rotary without windows (every block attends over each frame, rows in
// the processor's order), Qwen2VLVisionBlock's LayerNorms (eps 1e-6) and
// VisionMlp (fc1, hidden_act, fc2), and PatchMerger's LayerNorm ln_q. Its
// vision_config is Qwen2VLVisionConfig's: embed_dim wide, hidden_size out,
// embed_dim·mlp_ratio in the MLP.
func Qwen2VLImageFeatures(config map[string]any, w Tensors, pixels []float64, grid [3]int) ([][]float64, error) {
	vc := cfg(config).sub("vision_config")
	if vc == nil {
		return nil, fmt.Errorf("hfref: config has no vision_config")
	}
	embed := vc.int("embed_dim", 1280)
	v := &qwenVision{
		depth: vc.int("depth", 32), hidden: embed, inter: int(float64(embed) * vc.num("mlp_ratio", 4)),
		heads: vc.int("num_heads", 16), channels: vc.int("in_channels", vc.int("in_chans", 3)), patch: vc.int("patch_size", 14),
		temporal: vc.int("temporal_patch_size", 2), merge: vc.int("spatial_merge_size", 2), out: vc.int("hidden_size", 3584),
		act: vc.str("hidden_act", "quick_gelu"),
	}
	if v.heads <= 0 || v.hidden%v.heads != 0 || v.merge <= 0 || grid[1]%v.merge != 0 || grid[2]%v.merge != 0 {
		return nil, fmt.Errorf("hfref: vision_config %v for a grid %v", vc, grid)
	}
	m := &run{w: w}
	p := "visual."
	if _, ok := w["model.visual.patch_embed.proj.weight"]; ok {
		p = "model.visual."
	}
	n, in := grid[0]*grid[1]*grid[2], v.channels*v.temporal*v.patch*v.patch
	if len(pixels) != n*in {
		return nil, fmt.Errorf("hfref: %d pixel values for a grid %v", len(pixels), grid)
	}
	kw := m.tensor(p+"patch_embed.proj.weight", v.hidden, v.channels, v.temporal, v.patch, v.patch)
	x := make([][]float64, n)
	for r := range n {
		x[r] = make([]float64, v.hidden)
		for o := range v.hidden {
			for i := range in {
				x[r][o] += kw[o*in+i] * pixels[r*in+i]
			}
		}
	}
	hd := v.hidden / v.heads
	var invFreq []float64
	for i := 0; i < hd/2; i += 2 {
		invFreq = append(invFreq, 1/math.Pow(10000, float64(i)/float64(hd/2)))
	}
	cos, sin := make([][]float64, n), make([][]float64, n)
	for r, yx := range QwenPositions(grid, v.merge) {
		var emb []float64
		for _, c := range yx {
			for _, f := range invFreq {
				emb = append(emb, float64(c)*f)
			}
		}
		emb = append(emb, emb...)
		for _, a := range emb {
			cos[r] = append(cos[r], math.Cos(a))
			sin[r] = append(sin[r], math.Sin(a))
		}
	}
	cu := []int{0}
	for range grid[0] {
		cu = append(cu, cu[len(cu)-1]+grid[1]*grid[2])
	}
	for l := range v.depth {
		bp := fmt.Sprintf("%sblocks.%d.", p, l)
		x = add(x, m.qwenAttention(v, bp+"attn.", m.layerNorm(bp+"norm1", x, 1e-6), cos, sin, cu), 1)
		h := m.linear(bp+"mlp.fc1", m.layerNorm(bp+"norm2", x, 1e-6), v.inter, v.hidden, true)
		for _, row := range h {
			for i, e := range row {
				a, err := act(v.act, e)
				if err != nil {
					m.fail(err)
				}
				row[i] = a
			}
		}
		x = add(x, m.linear(bp+"mlp.fc2", h, v.hidden, v.inter, true), 1)
	}
	x = m.layerNorm(p+"merger.ln_q", x, 1e-6)
	unit := v.merge * v.merge
	merged := make([][]float64, n/unit)
	for i := range merged {
		for j := range unit {
			merged[i] = append(merged[i], x[i*unit+j]...)
		}
	}
	hm := v.hidden * unit
	y := m.linear(p+"merger.mlp.0", merged, hm, hm, true)
	for _, row := range y {
		for i, e := range row {
			row[i], _ = act("gelu", e)
		}
	}
	return m.linear(p+"merger.mlp.2", y, v.out, hm, true), m.err
}
