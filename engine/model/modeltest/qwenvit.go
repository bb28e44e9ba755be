package modeltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// QwenVision is a tiny Qwen2.5-VL vision tower (engine/model/qwenvit) with
// random weights, in transformers' names under a prefix the caller gives
// ("visual." before 4.52, "model.visual." from it, "vision_tower." for
// mlx-vlm). Zero fields take the defaults listed: patches of 4×4 pixels of
// two frames, 2×2 merged, windows of 16 pixels (2×2 merged blocks), so that
// a grid of 6×10 patches (3×5 blocks) is cut into windows of 4, 2, 2 and 1
// blocks.
type QwenVision struct {
	Depth         int   // 3
	Hidden        int   // 32
	Inter         int   // 48
	Heads         int   // 2 (heads of 16: 4 rotary angles for rows, 4 for columns)
	Patch         int   // 4
	TemporalPatch int   // 2
	Merge         int   // 2
	Window        int   // 16
	OutHidden     int   // 64
	FullAtt       []int // [1]
	Seed          uint64
	DType         model.DType // F32
	// MLX stores the patch kernel (out, frames, ky, kx, channel), as
	// mlx-vlm's sanitize leaves it.
	MLX bool
}

func (v QwenVision) withDefaults() QwenVision {
	def := func(x *int, d int) {
		if *x == 0 {
			*x = d
		}
	}
	def(&v.Depth, 3)
	def(&v.Hidden, 32)
	def(&v.Inter, 48)
	def(&v.Heads, 2)
	def(&v.Patch, 4)
	def(&v.TemporalPatch, 2)
	def(&v.Merge, 2)
	def(&v.Window, 16)
	def(&v.OutHidden, 64)
	if v.FullAtt == nil {
		v.FullAtt = []int{1}
	}
	if v.DType == "" {
		v.DType = model.F32
	}
	return v
}

// Config is the tower's vision_config for config.json.
func (v QwenVision) Config() map[string]any {
	v = v.withDefaults()
	return map[string]any{
		"model_type": "qwen2_5_vl", "depth": v.Depth, "hidden_size": v.Hidden, "intermediate_size": v.Inter,
		"num_heads": v.Heads, "in_chans": 3, "patch_size": v.Patch, "spatial_patch_size": v.Patch,
		"temporal_patch_size": v.TemporalPatch, "spatial_merge_size": v.Merge, "window_size": v.Window,
		"fullatt_block_indexes": v.FullAtt, "out_hidden_size": v.OutHidden, "hidden_act": "silu", "tokens_per_second": 2,
	}
}

// WriteQwenVision writes the tower's tensors under prefix to
// dir/visual.safetensors, beside a model's own weights.
func WriteQwenVision(dir, prefix string, v QwenVision) error {
	g := &gen{s: Spec{DType: v.withDefaults().DType}, r: rand.New(rand.NewPCG(v.Seed, 0x7177656e))}
	if err := g.qwenVision(prefix, v); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	return safetensors.WriteFile(filepath.Join(dir, "visual.safetensors"), g.out, map[string]string{"format": "pt"})
}

// qwenVision appends the tower's tensors under prefix.
func (g *gen) qwenVision(p string, v QwenVision) error {
	v = v.withDefaults()
	h, in := v.Hidden, 3*v.TemporalPatch*v.Patch*v.Patch
	m := h * v.Merge * v.Merge
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	kernel := g.normal(h*in, 0, inv(in))
	shape := []int{h, 3, v.TemporalPatch, v.Patch, v.Patch}
	if v.MLX {
		hw := in / 3
		moved := make([]float32, len(kernel))
		for o := range h {
			for c := range 3 {
				for i := range hw {
					moved[o*in+i*3+c] = kernel[o*in+c*hw+i]
				}
			}
		}
		kernel, shape = moved, []int{h, v.TemporalPatch, v.Patch, v.Patch, 3}
	}
	steps := []error{g.float(p+"patch_embed.proj.weight", kernel, shape...)}
	for l := range v.Depth {
		b := fmt.Sprintf("%sblocks.%d.", p, l)
		steps = append(steps,
			g.norm(b+"norm1.weight", h),
			g.linear(b+"attn.qkv", 3*h, h, inv(h), true),
			g.linear(b+"attn.proj", h, h, 0.5*inv(h), true),
			g.norm(b+"norm2.weight", h),
			g.linear(b+"mlp.gate_proj", v.Inter, h, inv(h), true),
			g.linear(b+"mlp.up_proj", v.Inter, h, inv(h), true),
			g.linear(b+"mlp.down_proj", h, v.Inter, 0.5*inv(v.Inter), true),
		)
	}
	steps = append(steps,
		g.norm(p+"merger.ln_q.weight", h),
		g.linear(p+"merger.mlp.0", m, m, inv(m), true),
		g.linear(p+"merger.mlp.2", v.OutHidden, m, inv(m), true),
	)
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}
