package hfref

import (
	"fmt"
	"math"
)

// Gemma 3's vision path, from transformers' modeling_siglip.py
// (SiglipVisionEmbeddings, SiglipEncoderLayer, SiglipAttention, SiglipMLP,
// post_layernorm; vision_use_head is false) and modeling_gemma3.py
// (Gemma3MultiModalProjector, Gemma3Model.get_image_features, the
// masked_scatter of the features over the image tokens, and
// token_type_ids_mask_function).

// vision is a Gemma3Config's vision_config (SiglipVisionConfig's defaults)
// and the keys of the top level that place images in the prompt.
type vision struct {
	hidden, inter, layers, heads, channels, imageSize, patch int
	eps                                                      float64
	act                                                      string
	tokensPerImage, imageToken                               int
	textHidden                                               int
}

func parseVision(raw map[string]any) (*vision, error) {
	c := cfg(raw)
	vc := c.sub("vision_config")
	if vc == nil {
		return nil, fmt.Errorf("hfref: config has no vision_config")
	}
	tc := c.sub("text_config")
	if tc == nil {
		tc = cfg{}
	}
	v := &vision{
		hidden: vc.int("hidden_size", 768), inter: vc.int("intermediate_size", 3072),
		layers: vc.int("num_hidden_layers", 12), heads: vc.int("num_attention_heads", 12),
		channels: vc.int("num_channels", 3), imageSize: vc.int("image_size", 224), patch: vc.int("patch_size", 16),
		eps: vc.num("layer_norm_eps", 1e-6), act: vc.str("hidden_act", "gelu_pytorch_tanh"),
		tokensPerImage: c.int("mm_tokens_per_image", 256),
		imageToken:     c.int("image_token_index", c.int("image_token_id", 262144)),
		textHidden:     tc.int("hidden_size", 2304),
	}
	if vc.bool("vision_use_head", false) {
		return nil, fmt.Errorf("hfref: vision_use_head is not Gemma 3's")
	}
	side := v.imageSize / v.patch
	perSide := int(math.Sqrt(float64(v.tokensPerImage)))
	switch {
	case v.heads <= 0 || v.hidden%v.heads != 0:
		return nil, fmt.Errorf("hfref: vision hidden_size %d over %d heads", v.hidden, v.heads)
	case v.patch <= 0 || v.imageSize%v.patch != 0:
		return nil, fmt.Errorf("hfref: image_size %d is not a multiple of patch_size %d", v.imageSize, v.patch)
	case perSide*perSide != v.tokensPerImage || perSide == 0 || side%perSide != 0:
		return nil, fmt.Errorf("hfref: mm_tokens_per_image %d does not pool %dx%d patches", v.tokensPerImage, side, side)
	}
	return v, nil
}

// visionPrefix is where a checkpoint keeps the vision tensors: at the top
// (transformers 4.50: vision_tower.*, multi_modal_projector.*) or under
// model. (4.52 and later).
func (m *run) visionPrefix() string {
	if _, ok := m.w["vision_tower.vision_model.embeddings.patch_embedding.weight"]; ok {
		return ""
	}
	return "model."
}

// ImageFeatures is Gemma3Model.get_image_features for one image:
// pixel_values (channels, image_size, image_size) row-major → the
// (mm_tokens_per_image, text hidden_size) embeddings that replace the image
// tokens.
func ImageFeatures(config map[string]any, w Tensors, pixels []float64) ([][]float64, error) {
	v, err := parseVision(config)
	if err != nil {
		return nil, err
	}
	m := &run{w: w}
	out := m.imageFeatures(v, pixels)
	return out, m.err
}

func (m *run) imageFeatures(v *vision, pixels []float64) [][]float64 {
	s, side := v.imageSize, v.imageSize/v.patch
	if len(pixels) != v.channels*s*s {
		m.fail(fmt.Errorf("hfref: %d pixel values, want %dx%dx%d", len(pixels), v.channels, s, s))
		return nil
	}
	vp := m.visionPrefix()
	p := vp + "vision_tower.vision_model."
	cw := m.tensor(p+"embeddings.patch_embedding.weight", v.hidden, v.channels, v.patch, v.patch)
	cb := m.tensor(p+"embeddings.patch_embedding.bias", v.hidden)
	pos := m.tensor(p+"embeddings.position_embedding.weight", side*side, v.hidden)
	x := patchEmbed(v, cw, cb, pos, pixels)
	for l := range v.layers {
		lp := fmt.Sprintf("%sencoder.layers.%d.", p, l)
		h := m.siglipAttention(v, lp, m.layerNorm(lp+"layer_norm1", x, v.eps))
		x = add(x, h, 1)
		h = m.siglipMLP(v, lp, m.layerNorm(lp+"layer_norm2", x, v.eps))
		x = add(x, h, 1)
	}
	x = m.layerNorm(p+"post_layernorm", x, v.eps)
	return m.project(v, vp+"multi_modal_projector.", x)
}

// patchEmbed is SiglipVisionEmbeddings: patch_embedding, a Conv2d(channels,
// hidden, kernel = stride = patch, "valid") whose output grid is flattened
// row by row, plus position_embedding(arange(patches)).
func patchEmbed(v *vision, cw, cb, pos, pixels []float64) [][]float64 {
	s, side := v.imageSize, v.imageSize/v.patch
	x := make([][]float64, side*side)
	for py := range side {
		for px := range side {
			n := py*side + px
			x[n] = make([]float64, v.hidden)
			for o := range v.hidden {
				sum := cb[o]
				for c := range v.channels {
					for ky := range v.patch {
						for kx := range v.patch {
							sum += cw[((o*v.channels+c)*v.patch+ky)*v.patch+kx] * pixels[(c*s+py*v.patch+ky)*s+px*v.patch+kx]
						}
					}
				}
				x[n][o] = sum + pos[n*v.hidden+o]
			}
		}
	}
	return x
}

// layerNorm is nn.LayerNorm with weight and bias over each row.
func (m *run) layerNorm(name string, x [][]float64, eps float64) [][]float64 {
	d := len(x[0])
	w, b := m.tensor(name+".weight", d), m.tensor(name+".bias", d)
	y := make([][]float64, len(x))
	for t, row := range x {
		var mean, vr float64
		for _, e := range row {
			mean += e
		}
		mean /= float64(d)
		for _, e := range row {
			vr += (e - mean) * (e - mean)
		}
		vr /= float64(d)
		y[t] = make([]float64, d)
		for i, e := range row {
			y[t][i] = (e-mean)/math.Sqrt(vr+eps)*w[i] + b[i]
		}
	}
	return y
}

// siglipAttention is SiglipAttention: every patch sees every patch.
func (m *run) siglipAttention(v *vision, p string, x [][]float64) [][]float64 {
	hd := v.hidden / v.heads
	q := m.linear(p+"self_attn.q_proj", x, v.hidden, v.hidden, true)
	k := m.linear(p+"self_attn.k_proj", x, v.hidden, v.hidden, true)
	val := m.linear(p+"self_attn.v_proj", x, v.hidden, v.hidden, true)
	scale := 1 / math.Sqrt(float64(hd))
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = make([]float64, v.hidden)
		for h := range v.heads {
			scores := make([]float64, len(x))
			mx := math.Inf(-1)
			for j := range x {
				var s float64
				for d := range hd {
					s += q[i][h*hd+d] * k[j][h*hd+d]
				}
				scores[j] = s * scale
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			for j, a := range scores {
				for d := range hd {
					out[i][h*hd+d] += a / sum * val[j][h*hd+d]
				}
			}
		}
	}
	return m.linear(p+"self_attn.out_proj", out, v.hidden, v.hidden, true)
}

// siglipMLP is fc1, the activation, fc2.
func (m *run) siglipMLP(v *vision, p string, x [][]float64) [][]float64 {
	h := m.linear(p+"mlp.fc1", x, v.inter, v.hidden, true)
	for _, row := range h {
		for i, e := range row {
			a, err := act(v.act, e)
			if err != nil {
				m.fail(err)
			}
			row[i] = a
		}
	}
	return m.linear(p+"mlp.fc2", h, v.hidden, v.inter, true)
}

// project is Gemma3MultiModalProjector: the (side, side) grid of patches
// average-pooled to (tokens_per_side, tokens_per_side), Gemma's (1 + w)
// RMSNorm with the vision eps, then a matmul by mm_input_projection_weight
// (vision hidden, text hidden), stored the other way round from nn.Linear.
func (m *run) project(v *vision, p string, x [][]float64) [][]float64 {
	side := v.imageSize / v.patch
	per := int(math.Sqrt(float64(v.tokensPerImage)))
	k := side / per
	norm := m.tensor(p+"mm_soft_emb_norm.weight", v.hidden)
	proj := m.tensor(p+"mm_input_projection_weight", v.hidden, v.textHidden)
	out := make([][]float64, v.tokensPerImage)
	for ty := range per {
		for tx := range per {
			pooled := make([]float64, v.hidden)
			for dy := range k {
				for dx := range k {
					row := x[(ty*k+dy)*side+tx*k+dx]
					for i := range pooled {
						pooled[i] += row[i] / float64(k*k)
					}
				}
			}
			normed := rmsNorm(pooled, norm, v.eps, true)
			t := ty*per + tx
			out[t] = make([]float64, v.textHidden)
			for o := range v.textHidden {
				var s float64
				for i, e := range normed {
					s += e * proj[i*v.textHidden+o]
				}
				out[t][o] = s
			}
		}
	}
	return out
}

// LogitsWithImages is Gemma3ForConditionalGeneration's forward over ids in
// which each image is a run of mm_tokens_per_image image_token_index tokens
// (what the processor expands <start_of_image> into): the runs' embeddings
// are the images' features, in order, unscaled, and the tokens of one run
// attend to each other both ways (token_type_ids_mask_function OR-ed with
// the causal and sliding masks).
func LogitsWithImages(config map[string]any, w Tensors, ids []int, pixels [][]float64) ([][]float64, error) {
	v, err := parseVision(config)
	if err != nil {
		return nil, err
	}
	f, err := parse(config)
	if err != nil {
		return nil, err
	}
	m := &run{f: f, w: w, n: len(ids)}
	img := &images{token: v.imageToken, group: make([]int, len(ids))}
	run := 0
	for t, id := range ids {
		img.group[t] = -1
		if id != v.imageToken {
			continue
		}
		if t == 0 || ids[t-1] != v.imageToken {
			run++
		}
		img.group[t] = run - 1
	}
	for t := 0; t < len(ids); t += v.tokensPerImage {
		for t < len(ids) && img.group[t] < 0 {
			t++
		}
		if t >= len(ids) {
			break
		}
		g := img.group[t]
		for i := range v.tokensPerImage {
			if t+i >= len(ids) || img.group[t+i] != g {
				return nil, fmt.Errorf("hfref: image %d has fewer than %d tokens", g, v.tokensPerImage)
			}
		}
		if t+v.tokensPerImage < len(ids) && img.group[t+v.tokensPerImage] == g {
			return nil, fmt.Errorf("hfref: image %d has more than %d tokens", g, v.tokensPerImage)
		}
	}
	if run != len(pixels) {
		return nil, fmt.Errorf("hfref: %d images in the prompt, %d given", run, len(pixels))
	}
	for _, px := range pixels {
		img.feats = append(img.feats, m.imageFeatures(v, px)...)
		if m.err != nil {
			return nil, m.err
		}
	}
	m.img = img
	return m.forward(ids)
}

// images are the image inputs of one forward pass.
type images struct {
	token int         // image_token_index
	feats [][]float64 // the features of every image's tokens, in prompt order
	group []int       // per position: the image it belongs to, -1 for text
}

// sameImage reports whether positions i and j are tokens of the same image.
func (img *images) sameImage(i, j int) bool {
	return img != nil && img.group[i] >= 0 && img.group[i] == img.group[j]
}
