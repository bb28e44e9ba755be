package modeltest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/qwenvit"
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
	// Qwen2VL is Qwen2-VL's tower: LayerNorms with biases, an fc1/fc2 MLP
	// (quick_gelu) Inter wide, no windows, and Qwen2VLVisionConfig's keys.
	Qwen2VL bool
	// QuantBits, GroupSize quantize the tower's linear layers as MLX does
	// (0: float); the model's config.json must say the same (its text
	// model's Spec).
	QuantBits, GroupSize int
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
	if v.Qwen2VL {
		return map[string]any{
			"model_type": "qwen2_vl", "depth": v.Depth, "embed_dim": v.Hidden, "hidden_size": v.OutHidden,
			"mlp_ratio": float64(v.Inter) / float64(v.Hidden), "num_heads": v.Heads, "in_chans": 3, "patch_size": v.Patch,
			"spatial_patch_size": v.Patch, "temporal_patch_size": v.TemporalPatch, "spatial_merge_size": v.Merge,
			"hidden_act": "quick_gelu",
		}
	}
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
	g := &gen{s: Spec{DType: v.withDefaults().DType, QuantBits: v.QuantBits, GroupSize: v.GroupSize},
		r: rand.New(rand.NewPCG(v.Seed, 0x7177656e))}
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
		if v.Qwen2VL {
			steps = append(steps,
				g.norm(b+"norm1.weight", h), g.float(b+"norm1.bias", g.normal(h, 0, 0.1), h),
				g.linear(b+"attn.qkv", 3*h, h, inv(h), true),
				g.linear(b+"attn.proj", h, h, 0.5*inv(h), true),
				g.norm(b+"norm2.weight", h), g.float(b+"norm2.bias", g.normal(h, 0, 0.1), h),
				g.linear(b+"mlp.fc1", v.Inter, h, inv(h), true),
				g.linear(b+"mlp.fc2", h, v.Inter, 0.5*inv(v.Inter), true),
			)
			continue
		}
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
	if v.Qwen2VL {
		steps = append(steps, g.float(p+"merger.ln_q.bias", g.normal(h, 0, 0.1), h))
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

// QwenTowerArch is a test-only architecture, registered by
// RegisterQwenTower: a Llama text model with a Qwen2.5-VL tower bound under
// the prefix config.json's test_vision_prefix names, whose image tokens are
// config.json's image_token_id between vision_start_token_id and
// vision_end_token_id. It runs the tower and the engine's grid images on
// the executors without Qwen2.5-VL's M-RoPE text model.
const QwenTowerArch = "QwenVisionTowerTestForCausalLM"

// The image tokens of the tower test model: ordinary tokens of the tiny
// vocabulary (Qwen2.5-VL's are 151652, 151653 and 151655).
const (
	QwenVisionStart = 500
	QwenVisionEnd   = 501
	QwenImagePad    = 502
)

var registerQwenTower sync.Once

// RegisterQwenTower registers QwenTowerArch, once.
func RegisterQwenTower() {
	registerQwenTower.Do(func() {
		model.Register(model.Arch{Name: QwenTowerArch, Build: buildQwenTower})
	})
}

type qwenTowerModel struct {
	model.Definition
	*qwenvit.Tower
	spec model.ImageSpec
}

func (m *qwenTowerModel) Image() model.ImageSpec { return m.spec }

func buildQwenTower(c *model.Config, b *model.Binder) (model.Definition, error) {
	var raw struct {
		Vision json.RawMessage `json:"vision_config"`
		Prefix string          `json:"test_vision_prefix"`
		Start  int32           `json:"vision_start_token_id"`
		End    int32           `json:"vision_end_token_id"`
		Pad    int32           `json:"image_token_id"`
	}
	if err := json.Unmarshal(c.Raw, &raw); err != nil {
		return nil, err
	}
	parse := qwenvit.ParseConfig
	if strings.Contains(string(raw.Vision), `"embed_dim"`) {
		parse = qwenvit.ParseQwen2VLConfig
	}
	vc, err := parse(raw.Vision)
	if err != nil {
		return nil, err
	}
	text, err := llama.Build(c, b)
	if err != nil {
		return nil, err
	}
	t, err := qwenvit.Bind(vc, b, raw.Prefix)
	if err != nil {
		return nil, err
	}
	return &qwenTowerModel{Definition: text, Tower: t,
		spec: t.Spec(model.ImageSpec{Token: raw.Pad, Begin: raw.Start, End: raw.End})}, nil
}

// WriteQwenTowerModel writes into dir (which must exist) the model of spec
// (a llama whose Hidden must be v's OutHidden) as a QwenTowerArch with the
// tower v under prefix, and a preprocessor_config.json of
// Qwen2VLImageProcessor for its patches: areas of 256 to 1024 pixels (an
// image of 23×17 pixels becomes 24×16, a grid of 4×6 patches, 6 tokens).
func WriteQwenTowerModel(dir string, spec Spec, v QwenVision, prefix string) error {
	v = v.withDefaults()
	if err := Write(dir, spec); err != nil {
		return err
	}
	path := filepath.Join(dir, "config.json")
	var c map[string]any
	if err := readJSON(path, &c); err != nil {
		return err
	}
	c["architectures"] = []string{QwenTowerArch}
	c["vision_config"] = v.Config()
	c["test_vision_prefix"] = prefix
	c["vision_start_token_id"], c["vision_end_token_id"], c["image_token_id"] = QwenVisionStart, QwenVisionEnd, QwenImagePad
	if err := writeJSON(path, c); err != nil {
		return err
	}
	proc := map[string]any{
		"image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2_5_VLProcessor",
		"min_pixels": 256, "max_pixels": 1024, "patch_size": v.Patch, "temporal_patch_size": v.TemporalPatch,
		"merge_size": v.Merge, "image_mean": []float64{0.48145466, 0.4578275, 0.40821073},
		"image_std": []float64{0.26862954, 0.26130258, 0.27577711},
	}
	if err := writeJSON(filepath.Join(dir, "preprocessor_config.json"), proc); err != nil {
		return err
	}
	return WriteQwenVision(dir, prefix, v)
}
