//go:build !race

// The layouts and the windows' effect run the same executors as
// TestTowerExecutors, which the race detector already sees; here they only
// cost time under it.

package qwenvit_test

import (
	"testing"

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
