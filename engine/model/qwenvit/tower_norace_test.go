//go:build !race

// The layouts and the windows' effect run the same executors as
// TestTowerExecutors, which the race detector already sees; here they only
// cost time under it.

package qwenvit_test

import (
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestTowerLayouts: the same tower under transformers 4.52's prefix and in
// mlx-vlm's names with its (out, frames, ky, kx, channel) kernel runs on
// the CPU as the oracle runs the weights of "visual.".
func TestTowerLayouts(t *testing.T) {
	grid := [3]int{1, 6, 10}
	px := patches(4, grid)
	v := modeltest.QwenVision{Seed: 8}
	want := oracle(t, writeTower(t, v, "visual."), px, grid)
	mlx := v
	mlx.MLX = true
	for name, dir := range map[string]string{
		"model.visual.": writeTower(t, v, "model.visual."),
		"mlx":           writeTower(t, mlx, "vision_tower."),
	} {
		if d := hfref.Compare(embeds(t, dir, px, grid)["cpu"], want); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
}

// TestWindowsMatter: windows that cover the whole image (every block
// attending to every patch) change the embeddings well beyond the
// tolerance, so the comparisons above would catch a tower whose windows
// were wrong; and the executors follow the oracle there too.
func TestWindowsMatter(t *testing.T) {
	grid := [3]int{1, 6, 10}
	px := patches(6, grid)
	windowed := oracle(t, writeTower(t, modeltest.QwenVision{Seed: 11}, "visual."), px, grid)
	whole := writeTower(t, modeltest.QwenVision{Seed: 11, Window: 64}, "visual.")
	want := oracle(t, whole, px, grid)
	if d := hfref.Compare(float32s(windowed), want); d == "" {
		t.Fatal("windows of 2x2 blocks and one window over the image give the same embeddings")
	}
	for name, got := range embeds(t, whole, px, grid) {
		if d := hfref.Compare(got, want); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
}

func float32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// TestQwen2VLTower compares Qwen2-VL's tower (LayerNorms, QuickGELU MLP,
// no windows) on both executors with the oracle written from
// modeling_qwen2_vl.py.
func TestQwen2VLTower(t *testing.T) {
	dir := writeTower(t, modeltest.QwenVision{Seed: 13, Qwen2VL: true}, "visual.")
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, grid := range [][3]int{{1, 6, 10}, {2, 4, 6}} {
		px := patches(uint64(grid[0]*grid[2]), grid)
		f, err := hfref.Qwen2VLImageFeatures(config, w, widen(px), grid)
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range embeds(t, dir, px, grid) {
			if d := hfref.Compare(got, flat(f)); d != "" {
				t.Errorf("%v %s: %s", grid, name, d)
			}
		}
	}
}

// TestTowerStoredTypes: a tower stored in BF16, and one quantized to 4 bits
// in groups of 32 as mlx-community's conversions store it (the kernel and
// the norms in BF16), runs on both executors as the oracle runs the same
// weights (dequantized).
func TestTowerStoredTypes(t *testing.T) {
	grid := [3]int{1, 6, 10}
	px := patches(12, grid)
	for name, c := range map[string]struct {
		text modeltest.Spec
		v    modeltest.QwenVision
	}{
		"bf16": {modeltest.Spec{Arch: "llama", Hidden: 64, Layers: 1, Seed: 5, DType: model.BF16},
			modeltest.QwenVision{Seed: 14, DType: model.BF16}},
		"mlx 4-bit": {modeltest.Spec{Arch: "llama", Hidden: 64, Layers: 1, Seed: 5, DType: model.BF16, QuantBits: 4, GroupSize: 32},
			modeltest.QwenVision{Seed: 14, DType: model.BF16, Inter: 64, MLX: true, QuantBits: 4, GroupSize: 32}},
	} {
		t.Run(name, func(t *testing.T) {
			modeltest.RegisterQwenTower()
			dir := t.TempDir()
			prefix := "visual."
			if c.v.MLX {
				prefix = "vision_tower."
			}
			if err := modeltest.WriteQwenTowerModel(dir, c.text, c.v, prefix); err != nil {
				t.Fatal(err)
			}
			config, w, err := hfref.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			// The oracle reads transformers' names and kernel.
			w = hfNames(t, w, prefix, c.v)
			f, err := hfref.QwenImageFeatures(config, w, widen(px), grid)
			if err != nil {
				t.Fatal(err)
			}
			for exec, got := range embeds(t, dir, px, grid) {
				if d := hfref.Compare(got, flat(f)); d != "" {
					t.Errorf("%s: %s", exec, d)
				}
			}
		})
	}
}

// hfNames renames the tower's tensors from prefix to "visual." and moves
// an MLX kernel's channel axis back to transformers' place.
func hfNames(t *testing.T, w hfref.Tensors, prefix string, v modeltest.QwenVision) hfref.Tensors {
	t.Helper()
	out := hfref.Tensors{}
	for name, x := range w {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			name = "visual." + rest
		}
		out[name] = x
	}
	if v.MLX {
		k := out["visual.patch_embed.proj.weight"]
		o, in := k.Shape[0], len(k.Data)/k.Shape[0]
		hw := in / 3
		moved := make([]float64, len(k.Data))
		for r := range o {
			for c := range 3 {
				for i := range hw {
					moved[r*in+c*hw+i] = k.Data[r*in+i*3+c]
				}
			}
		}
		out["visual.patch_embed.proj.weight"] = hfref.Tensor{Shape: []int{o, 3, k.Shape[1], k.Shape[2], k.Shape[3]}, Data: moved}
	}
	return out
}
