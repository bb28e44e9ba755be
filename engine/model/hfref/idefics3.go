package hfref

import (
	"fmt"
	"math"
	"slices"
)

// Idefics3's vision path, from transformers' modeling_idefics3.py:
// Idefics3VisionEmbeddings (the patch convolution, and position ids
// bucketized from each patch's fractional coordinates in the patch mask),
// Idefics3EncoderLayer (SigLIP's: siglipAttention, siglipMLP), post_layernorm,
// Idefics3Connector (pixel_shuffle as its view/permute/reshape sequence, then
// modality_projection), and Idefics3Model.inputs_merger, which scatters the
// tiles' features over the <image> tokens in order. The text model is
// LlamaModel with its causal mask: image tokens get no bidirectional mask.

// idefics3 is an Idefics3Config's vision settings.
type idefics3 struct {
	v          vision // the encoder's sizes, as SigLIP's
	scale      int    // scale_factor
	imageToken int
	textHidden int
}

func parseIdefics3(raw map[string]any) (*idefics3, error) {
	c := cfg(raw)
	vc := c.sub("vision_config")
	if vc == nil {
		vc = cfg{}
	}
	tc := c.sub("text_config")
	if tc == nil {
		tc = cfg{}
	}
	// Idefics3VisionConfig's defaults.
	x := &idefics3{
		v: vision{hidden: vc.int("hidden_size", 1152), inter: vc.int("intermediate_size", 3072),
			layers: vc.int("num_hidden_layers", 12), heads: vc.int("num_attention_heads", 16),
			channels: vc.int("num_channels", 3), imageSize: vc.int("image_size", 224), patch: vc.int("patch_size", 32),
			eps: vc.num("layer_norm_eps", 1e-6), act: vc.str("hidden_act", "gelu_pytorch_tanh")},
		scale: c.int("scale_factor", 2), imageToken: c.int("image_token_id", 128257),
		textHidden: tc.int("hidden_size", 4096),
	}
	side := x.v.imageSize / max(x.v.patch, 1)
	if x.v.heads <= 0 || x.v.hidden%x.v.heads != 0 || x.v.patch <= 0 || x.scale <= 0 || side%x.scale != 0 {
		return nil, fmt.Errorf("hfref: idefics3 vision sizes %+v, scale_factor %d", x.v, x.scale)
	}
	return x, nil
}

// Idefics3TileFeatures is Idefics3Model.get_image_features for one tile of
// pixel values (channels, image_size, image_size), every pixel real (a
// pixel_attention_mask of ones): its (tokens, text hidden) features.
func Idefics3TileFeatures(config map[string]any, w Tensors, pixels []float64) ([][]float64, error) {
	x, err := parseIdefics3(config)
	if err != nil {
		return nil, err
	}
	m := &run{w: w}
	out := m.idefics3Tile(x, pixels)
	return out, m.err
}

func (m *run) idefics3Tile(x *idefics3, pixels []float64) [][]float64 {
	v := &x.v
	s, p := v.imageSize, v.patch
	if len(pixels) != v.channels*s*s {
		m.fail(fmt.Errorf("hfref: %d pixel values, want %dx%dx%d", len(pixels), v.channels, s, s))
		return nil
	}
	const pre = "model.vision_model."
	cw := m.tensor(pre+"embeddings.patch_embedding.weight", v.hidden, v.channels, p, p)
	cb := m.tensor(pre+"embeddings.patch_embedding.bias", v.hidden)
	perSide := s / p // num_patches_per_side
	pos := m.tensor(pre+"embeddings.position_embedding.weight", perSide*perSide, v.hidden)
	if m.err != nil {
		return nil
	}
	// patch_attention_mask: a patch is real when any of its pixels is; all
	// are here, so nb_patches_h = nb_patches_w = perSide.
	nbH, nbW := perSide, perSide
	boundaries := arange(1/float64(perSide), 1.0, 1/float64(perSide))
	bucketH := bucketize(arange(0, 1-1e-6, 1/float64(nbH)), boundaries)
	bucketW := bucketize(arange(0, 1-1e-6, 1/float64(nbW)), boundaries)
	h := make([][]float64, nbH*nbW)
	for py := range nbH {
		for px := range nbW {
			n := py*nbW + px
			id := bucketH[py]*perSide + bucketW[px]
			h[n] = make([]float64, v.hidden)
			for o := range v.hidden {
				sum := cb[o]
				for c := range v.channels {
					for ky := range p {
						for kx := range p {
							sum += cw[((o*v.channels+c)*p+ky)*p+kx] * pixels[(c*s+py*p+ky)*s+px*p+kx]
						}
					}
				}
				h[n][o] = sum + pos[id*v.hidden+o]
			}
		}
	}
	for l := range v.layers {
		lp := fmt.Sprintf("%sencoder.layers.%d.", pre, l)
		h = add(h, m.siglipAttention(v, lp, m.layerNorm(lp+"layer_norm1", h, v.eps)), 1)
		h = add(h, m.siglipMLP(v, lp, m.layerNorm(lp+"layer_norm2", h, v.eps)), 1)
	}
	h = m.layerNorm(pre+"post_layernorm", h, v.eps)
	shuffled := pixelShuffle(h, x.scale)
	return m.linear("model.connector.modality_projection.proj", shuffled, x.textHidden, v.hidden*x.scale*x.scale, false)
}

// arange is torch.arange(start, end, step) in float64.
func arange(start, end, step float64) []float64 {
	var out []float64
	for i := 0; start+float64(i)*step < end; i++ {
		out = append(out, start+float64(i)*step)
	}
	return out
}

// bucketize is torch.bucketize(x, boundaries, right=True): for each value,
// the number of boundaries at or below it.
func bucketize(x, boundaries []float64) []int {
	out := make([]int, len(x))
	for i, v := range x {
		for _, b := range boundaries {
			if b <= v {
				out[i]++
			}
		}
	}
	return out
}

// pixelShuffle is Idefics3Connector.pixel_shuffle on one tile's (seq,
// embed_dim) rows, as its sequence of views, permutes and reshapes of a
// contiguous tensor.
func pixelShuffle(x [][]float64, s int) [][]float64 {
	seq, d := len(x), len(x[0])
	side := int(math.Sqrt(float64(seq)))
	flat := make([]float64, 0, seq*d)
	for _, r := range x {
		flat = append(flat, r...)
	}
	// x.view(height, width/s, d*s) is the same memory; permute(1, 0, 2):
	t := permute3(flat, side, side/s, d*s)
	// reshape(width/s, height/s, d*s*s) is the same memory; permute(1, 0, 2):
	t = permute3(t, side/s, side/s, d*s*s)
	// reshape(seq/s², d*s²)
	out := make([][]float64, seq/(s*s))
	for i := range out {
		out[i] = slices.Clone(t[i*d*s*s : (i+1)*d*s*s])
	}
	return out
}

// permute3 is a contiguous (a, b, c) tensor permuted to (b, a, c), made
// contiguous.
func permute3(x []float64, a, b, c int) []float64 {
	out := make([]float64, len(x))
	for i := range a {
		for j := range b {
			copy(out[(j*a+i)*c:(j*a+i+1)*c], x[(i*b+j)*c:(i*b+j+1)*c])
		}
	}
	return out
}

// Idefics3LogitsWithImages is Idefics3ForConditionalGeneration's forward
// over ids in which each tile is a run of image_seq_len <image> tokens (what
// Idefics3Processor expands an image into), tiles in the order of their
// pixel values: inputs_merger puts the tiles' features over the <image>
// tokens in order, and the text model runs with its causal mask.
func Idefics3LogitsWithImages(config map[string]any, w Tensors, ids []int, tiles [][]float64) ([][]float64, error) {
	x, err := parseIdefics3(config)
	if err != nil {
		return nil, err
	}
	f, err := parse(config)
	if err != nil {
		return nil, err
	}
	m := &run{f: f, w: w, n: len(ids)}
	img := &images{token: x.imageToken, group: make([]int, len(ids))}
	n := 0
	for t, id := range ids {
		img.group[t] = -1 // no image mask: every token attends causally
		if id == x.imageToken {
			n++
		}
	}
	for _, px := range tiles {
		img.feats = append(img.feats, m.idefics3Tile(x, px)...)
		if m.err != nil {
			return nil, m.err
		}
	}
	if n != len(img.feats) {
		return nil, fmt.Errorf("hfref: %d image tokens, %d tile features", n, len(img.feats))
	}
	m.img = img
	return m.forward(ids)
}

// PixelShuffle is pixelShuffle, for tests.
func PixelShuffle(x [][]float64, s int) [][]float64 { return pixelShuffle(x, s) }
