package qwenvit

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// eps is the epsilon of every norm of the tower: transformers builds them
// as Qwen2RMSNorm(hidden, eps=1e-6) whatever the config says.
const eps = 1e-6

type block struct {
	norm1, norm2   model.Tensor // (hidden)
	bias1, bias2   model.Tensor // (hidden) Qwen2-VL's LayerNorm biases
	fc1, fc2       model.Linear // Qwen2-VL's MLP: (inter, hidden), (hidden, inter), with biases
	q, k, v        model.Linear // rows of attn.qkv (3·hidden, hidden), with their biases
	proj           model.Linear // (hidden, hidden) with bias
	gate, up, down model.Linear // (inter, hidden), (inter, hidden), (hidden, inter), with biases
}

// Tower is a bound Qwen2.5-VL vision transformer. The Binder records the
// addresses of its tensors, so it lives behind the pointer Bind returns.
type Tower struct {
	c      Config
	patch  model.Linear // the Conv3d as (hidden, channels·frames·patch·patch), no bias
	last   bool         // the kernel is stored (out, frames, ky, kx, channel), as MLX convolutions are
	blocks []block
	lnQ    model.Tensor // (hidden) merger.ln_q
	lnQb   model.Tensor // (hidden) its bias, Qwen2-VL's LayerNorm
	fc1    model.Linear // merger.mlp.0 (hidden·merge², hidden·merge²)
	fc2    model.Linear // merger.mlp.2 (out hidden, hidden·merge²)
	attn   model.Attention
	act    model.Activation
	freqs  []float64 // (headDim/4) VisionRotaryEmbedding's inverse frequencies
}

// Bind binds the tower's tensors under p, the path of its
// Qwen2_5_VisionTransformerPretrainedModel ("visual." in transformers
// before 4.52, "model.visual." from 4.52, "vision_tower." in mlx-vlm), with
// the names modeling_qwen2_5_vl.py gives them.
func Bind(c Config, b *model.Binder, p string) (*Tower, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	h, hd := c.Hidden, c.Hidden/c.Heads
	t := &Tower{c: c, blocks: make([]block, c.Depth)}
	t.act = map[string]model.Activation{"silu": model.SiLU, "gelu_pytorch_tanh": model.GELUTanh, "gelu": model.GELU,
		"quick_gelu": model.QuickGELU}[c.Act]
	t.attn = model.Attention{Heads: c.Heads, KVHeads: c.Heads, HeadDim: hd, Scale: 1 / math.Sqrt(float64(hd)), Bidirectional: true}
	// VisionRotaryEmbedding(head_dim/2): theta^(-2i/dim) for i < dim/2.
	dim := hd / 2
	for i := 0; i < dim; i += 2 {
		t.freqs = append(t.freqs, 1/math.Pow(10000, float64(i)/float64(dim)))
	}
	var err error
	if t.last, err = b.Conv3D(&t.patch, p+"patch_embed.proj", h, c.Channels, c.TemporalPatch, c.Patch); err != nil {
		return nil, err
	}
	for l := range t.blocks {
		if err := b.Err(); err != nil {
			return nil, err
		}
		if err := t.blocks[l].bind(b, fmt.Sprintf("%sblocks.%d.", p, l), h, c.Inter, c.Qwen2VL); err != nil {
			return nil, err
		}
	}
	m := h * c.Merge * c.Merge
	if err := b.Vector(&t.lnQ, p+"merger.ln_q.weight", h); err != nil {
		return nil, err
	}
	if c.Qwen2VL {
		if err := b.Vector(&t.lnQb, p+"merger.ln_q.bias", h); err != nil {
			return nil, err
		}
	}
	if err := b.Linear(&t.fc1, p+"merger.mlp.0", m, m, true); err != nil {
		return nil, err
	}
	if err := b.Linear(&t.fc2, p+"merger.mlp.2", c.OutHidden, m, true); err != nil {
		return nil, err
	}
	return t, nil
}

func (B *block) bind(b *model.Binder, p string, h, inter int, qwen2 bool) error {
	type vec = struct {
		dst  *model.Tensor
		name string
	}
	type lin = struct {
		dst     *model.Linear
		name    string
		out, in int
	}
	norms := []vec{{&B.norm1, "norm1.weight"}, {&B.norm2, "norm2.weight"}}
	lins := []lin{{&B.proj, "attn.proj", h, h}, {&B.gate, "mlp.gate_proj", inter, h}, {&B.up, "mlp.up_proj", inter, h}, {&B.down, "mlp.down_proj", h, inter}}
	if qwen2 {
		norms = append(norms, vec{&B.bias1, "norm1.bias"}, vec{&B.bias2, "norm2.bias"})
		lins = []lin{{&B.proj, "attn.proj", h, h}, {&B.fc1, "mlp.fc1", inter, h}, {&B.fc2, "mlp.fc2", h, inter}}
	}
	for _, x := range norms {
		if err := b.Vector(x.dst, p+x.name, h); err != nil {
			return err
		}
	}
	if err := b.RowsBias([]*model.Linear{&B.q, &B.k, &B.v}, p+"attn.qkv", []int{h, h, h}, h); err != nil {
		return err
	}
	for _, x := range lins {
		if err := b.Linear(x.dst, p+x.name, x.out, x.in, true); err != nil {
			return err
		}
	}
	return nil
}

// Config is the tower's vision_config.
func (t *Tower) Config() Config { return t.c }

// Spec fills the fields of a model.ImageSpec that the tower decides: the
// patches it reads and how many become one embedding.
func (t *Tower) Spec(s model.ImageSpec) model.ImageSpec {
	s.Size, s.Channels, s.Tokens = 0, t.c.Channels, 0
	s.Merge, s.Patch, s.TemporalPatch = t.c.Merge, t.c.Patch, t.c.TemporalPatch
	return s
}

// VisionLayers is the number of blocks.
func (t *Tower) VisionLayers() int { return len(t.blocks) }

// VisionEmbed is Qwen2_5_VisionPatchEmbed, then the rows permuted into
// windows (the forward pass's hidden_states[window_index]): pixels are the
// image processor's patches (t·h·w, channels·frames·patch·patch), each
// patch's values (channel, frame, y, x), the Conv3d's kernel order.
func (t *Tower) VisionEmbed(o model.VisionOps, pixels []float32) model.Value {
	g := o.Grid()
	n, per := g[0]*g[1]*g[2], t.c.PatchValues()
	if n <= 0 || len(pixels) != n*per {
		panic(fmt.Sprintf("qwenvit: %d pixel values for a grid %v of patches of %d", len(pixels), g, per))
	}
	rows := pixels
	if t.last {
		// MLX's kernel reads (frame, y, x, channel).
		ch, hw := t.c.Channels, per/t.c.Channels
		rows = make([]float32, len(pixels))
		for r := range n {
			src, dst := pixels[r*per:(r+1)*per], rows[r*per:(r+1)*per]
			for c := range ch {
				for i := range hw {
					dst[i*ch+c] = src[c*hw+i]
				}
			}
		}
	}
	x := o.Linear(o.Input(rows, n, per), &t.patch)
	return o.Permute(x, t.windows(g).rows)
}

// VisionLayer is Qwen2_5_VLVisionBlock l on rows in window order: RMSNorm,
// attention with the 2-D rotary within each window (or over each frame of
// the image for the blocks of fullatt_block_indexes), RMSNorm, the gated MLP,
// each with its residual.
func (t *Tower) VisionLayer(o model.VisionOps, l int, x model.Value) model.Value {
	B, g := &t.blocks[l], o.Grid()
	w := t.windows(g)
	bounds := w.bounds
	if t.c.full(l) {
		bounds = frames(g)
	}
	angles := t.angles(g, w.rows)
	h := t.norm(o, x, &B.norm1, &B.bias1)
	q, k, v := o.Linear3(h, &B.q, &B.k, &B.v)
	q = o.Rotate(q, t.attn.HeadDim, angles)
	k = o.Rotate(k, t.attn.HeadDim, angles)
	x = o.Add(x, o.Linear(o.BlockAttention(q, k, v, &t.attn, bounds), &B.proj))
	h = t.norm(o, x, &B.norm2, &B.bias2)
	if t.c.Qwen2VL {
		return o.Add(x, o.Linear(o.Act(o.Linear(h, &B.fc1), t.act), &B.fc2))
	}
	gate, up := o.Linear2(h, &B.gate, &B.up)
	return o.Add(x, o.Linear(o.GLU(gate, up, t.act), &B.down))
}

// norm is Qwen2.5-VL's RMSNorm, or Qwen2-VL's LayerNorm with its bias.
func (t *Tower) norm(o model.VisionOps, x model.Value, w, b *model.Tensor) model.Value {
	if t.c.Qwen2VL {
		return o.LayerNorm(x, w, b, eps)
	}
	return o.RMSNorm(x, w, eps, 0)
}

// VisionHead is Qwen2_5_VLPatchMerger, then the merged rows put back in the
// processor's order: one embedding per block of merge×merge patches.
func (t *Tower) VisionHead(o model.VisionOps, x model.Value) model.Value {
	w := t.windows(o.Grid())
	x = o.Group(t.norm(o, x, &t.lnQ, &t.lnQb), t.c.Merge*t.c.Merge)
	x = o.Linear(o.Act(o.Linear(x, &t.fc1), model.GELU), &t.fc2)
	back := make([]int, len(w.units))
	for i, u := range w.units {
		back[u] = i
	}
	return o.Permute(x, back)
}
