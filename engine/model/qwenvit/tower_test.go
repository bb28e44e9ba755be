package qwenvit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/qwenvit"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// writeTower writes a tiny Llama of the tower's output width with the
// tower's tensors under prefix, as modeltest's test-only QwenTowerArch.
func writeTower(t *testing.T, v modeltest.QwenVision, prefix string) string {
	t.Helper()
	modeltest.RegisterQwenTower()
	dir := t.TempDir()
	if err := modeltest.WriteQwenTowerModel(dir, modeltest.Spec{Arch: "llama", Hidden: 64, Layers: 1, Seed: 5}, v, prefix); err != nil {
		t.Fatal(err)
	}
	return dir
}

// patches are pixel values in the processor's range for a grid.
func patches(seed uint64, grid [3]int) []float32 {
	r := rand.New(rand.NewPCG(seed, 9))
	px := make([]float32, grid[0]*grid[1]*grid[2]*3*2*4*4)
	for i := range px {
		px[i] = float32(r.Float64()*4 - 2)
	}
	return px
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func flat(x [][]float64) []float64 {
	var out []float64
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}

var executors = map[string]func(*model.Model) (model.Runner, error){
	"reference": func(m *model.Model) (model.Runner, error) { return reference.NewRunner(m), nil },
	"cpu": func(m *model.Model) (model.Runner, error) {
		return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true})
	},
}

// embeds runs the tower of the model in dir on each executor.
func embeds(t *testing.T, dir string, px []float32, grid [3]int) map[string][]float32 {
	t.Helper()
	ctx := context.Background()
	m, err := model.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := map[string][]float32{}
	for name, nr := range executors {
		r, err := nr(m)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := r.NewSequence(16)
		if err != nil {
			t.Fatal(err)
		}
		e, err := seq.(model.Imager).ImageGridEmbeds(ctx, px, grid)
		seq.Close()
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = e
	}
	return out
}

// oracle is the float64 tower written from modeling_qwen2_5_vl.py.
func oracle(t *testing.T, dir string, px []float32, grid [3]int) []float64 {
	t.Helper()
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := hfref.QwenImageFeatures(config, w, widen(px), grid)
	if err != nil {
		t.Fatal(err)
	}
	return flat(f)
}

// TestTowerExecutors compares the image embeddings of both executors with
// the oracle, on grids the 16-pixel windows (2×2 merged blocks) cut
// unevenly (6×10 patches: windows of 4, 4, 2, 2, 2 and 1 blocks), exactly
// (4×4: one window, the padded ones empty), and across two frames, with
// one block of full attention among windowed ones.
func TestTowerExecutors(t *testing.T) {
	v := modeltest.QwenVision{Seed: 3}
	dir := writeTower(t, v, "visual.")
	for _, grid := range [][3]int{{1, 6, 10}, {1, 4, 4}, {1, 10, 6}, {2, 4, 6}} {
		t.Run(fmt.Sprint(grid), func(t *testing.T) {
			px := patches(uint64(grid[1]*grid[2]), grid)
			want := oracle(t, dir, px, grid)
			if n := len(want) / 64; n != grid[0]*grid[1]*grid[2]/4 {
				t.Fatalf("oracle gave %d embeddings", n)
			}
			for name, got := range embeds(t, dir, px, grid) {
				if d := hfref.Compare(got, want); d != "" {
					t.Errorf("%s: %s", name, d)
				}
			}
		})
	}
}

// TestTowerRefuses: grids the tower cannot read and pixels that are not
// the grid's patches are errors, not panics or wrong embeddings; a tower of
// dynamic size refuses ImageEmbeds.
func TestTowerRefuses(t *testing.T) {
	ctx := context.Background()
	m, err := model.Open(ctx, writeTower(t, modeltest.QwenVision{Seed: 1, Depth: 1, FullAtt: []int{0}}, "visual."))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for name, nr := range executors {
		r, err := nr(m)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := r.NewSequence(16)
		if err != nil {
			t.Fatal(err)
		}
		im := seq.(model.Imager)
		for _, c := range []struct {
			grid [3]int
			n    int
		}{{[3]int{1, 3, 4}, 12 * 96}, {[3]int{1, 4, 4}, 16*96 - 1}, {[3]int{0, 4, 4}, 0}} {
			if _, err := im.ImageGridEmbeds(ctx, make([]float32, c.n), c.grid); err == nil {
				t.Errorf("%s: grid %v with %d values accepted", name, c.grid, c.n)
			}
		}
		if _, err := im.ImageEmbeds(ctx, make([]float32, 16*96)); err == nil {
			t.Errorf("%s: ImageEmbeds ran a tower of dynamic size", name)
		}
		seq.Close()
		r.Close()
	}
}

// TestParseConfig reads the vision_config of Qwen2.5-VL-3B-Instruct
// (the family's testdata, transcribed from the checkpoint's config.json) and refuses
// what the tower does not implement by key.
func TestParseConfig(t *testing.T) {
	b, err := os.ReadFile("../qwen2vl/testdata/Qwen2.5-VL-3B-Instruct.config.json")
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Vision json.RawMessage `json:"vision_config"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	c, err := qwenvit.ParseConfig(top.Vision)
	if err != nil {
		t.Fatal(err)
	}
	want := qwenvit.Config{Depth: 32, Hidden: 1280, Inter: 3420, Heads: 16, Channels: 3, Patch: 14, TemporalPatch: 2, Merge: 2,
		Window: 112, FullAtt: []int{7, 15, 23, 31}, OutHidden: 2048, Act: "silu"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed %+v, want %+v", c, want)
	}
	// Qwen2-VL-2B-Instruct's vision_config (transcribed): the tower is
	// embed_dim wide, hidden_size is the text model's.
	c2, err := qwenvit.ParseQwen2VLConfig(json.RawMessage(`{"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16,
		"in_chans": 3, "hidden_size": 1536, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14, "temporal_patch_size": 2}`))
	want2 := qwenvit.Config{Depth: 32, Hidden: 1280, Inter: 5120, Heads: 16, Channels: 3, Patch: 14, TemporalPatch: 2, Merge: 2,
		OutHidden: 1536, Act: "quick_gelu", Qwen2VL: true}
	if err != nil || !reflect.DeepEqual(c2, want2) {
		t.Errorf("Qwen2-VL: %+v, %v; want %+v", c2, err, want2)
	}
	for raw, bad := range map[string]string{
		`{"hidden_act": "quick_gelu"}`:                  `hidden_act "quick_gelu"`,
		`{"hidden_size": 1280, "num_heads": 3}`:         "over 3 heads",
		`{"window_size": 20}`:                           "window_size 20",
		`{"depth": 4, "fullatt_block_indexes": [1, 4]}`: "fullatt_block_indexes [1 4]",
		`{"spatial_merge_size": 0}`:                     "spatial_merge_size 0",
	} {
		if _, err := qwenvit.ParseConfig(json.RawMessage(raw)); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v, want %q", raw, err, bad)
		}
	}
}
