//go:build !race

package hfref_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// idefics3Prompt is text, an image of a 1x2 grid of tiles and its global
// tile as Idefics3Processor expands it (<fake_token_around_image>,
// <row_1_col_N>, four <image> per tile, "\n", then "\n", the global tile
// between <fake_token_around_image>s), and text.
var idefics3Prompt = func() []int {
	img := func() []int {
		return []int{modeltest.Idefics3Image, modeltest.Idefics3Image, modeltest.Idefics3Image, modeltest.Idefics3Image}
	}
	p := []int{1, 45, 300}
	for c := range 2 {
		p = append(p, modeltest.Idefics3Fake, modeltest.Idefics3Row+c)
		p = append(p, img()...)
	}
	p = append(p, 10, 10, modeltest.Idefics3Fake, modeltest.Idefics3Global)
	p = append(p, img()...)
	return append(p, modeltest.Idefics3Fake, 7, 88, 220)
}()

// tilePixels are pixel values in the processor's range, (3, 18, 18).
func tilePixels(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	px := make([]float32, 3*modeltest.Idefics3Tile*modeltest.Idefics3Tile)
	for i := range px {
		px[i] = float32(r.Float64()*2 - 1)
	}
	return px
}

// idefics3Case cuts idefics3Prompt after the first tile and decodes up to
// the global tile, inside the text between tiles.
var idefics3Case = &imageCase{ids: idefics3Prompt, token: modeltest.Idefics3Image, head: 9, split: 11,
	features: hfref.Idefics3TileFeatures, logits: hfref.Idefics3LogitsWithImages}

// TestIdefics3Executors runs Idefics3's vision tower, connector and tile
// splice on the executors and compares each tile's features and the logits
// after an image+text prompt with the float64 oracle written from
// modeling_idefics3.py: the prompt in one call, in chunks of 5 (which end
// inside the text between tiles), and decoded on after the image. The oracle
// attends causally over the image tokens; an executor that let a tile's
// tokens see each other both ways would fail here.
func TestIdefics3Executors(t *testing.T) {
	idefics3Case.onExecutors(t, modeltest.Spec{Arch: "idefics3", Layers: 3, Seed: 41},
		[][]float32{tilePixels(1), tilePixels(2), tilePixels(3)})
}

// TestPixelShuffleOrder checks the oracle's pixel shuffle against the
// closed form of modeling_idefics3's view/permute/reshape sequence on a grid
// of distinct values: output row r*per+c holds the k×k block at (r, c), its
// rows in order, each patch's channels together.
func TestPixelShuffleOrder(t *testing.T) {
	const side, k, d = 4, 2, 3
	x := make([][]float64, side*side)
	for i := range x {
		x[i] = []float64{float64(i), float64(i) + 0.25, float64(i) + 0.5}
	}
	got := hfref.PixelShuffle(x, k)
	for r := range side / k {
		for c := range side / k {
			row := got[r*(side/k)+c]
			for dy := range k {
				for dx := range k {
					for e := range d {
						want := x[(r*k+dy)*side+c*k+dx][e]
						if v := row[(dy*k+dx)*d+e]; math.Abs(v-want) > 0 {
							t.Fatalf("block (%d, %d), patch (%d, %d), channel %d: %v, want %v", r, c, dy, dx, e, v, want)
						}
					}
				}
			}
		}
	}
}

// TestIdefics3MLXLayout: the same model in mlx-vlm's names and patch kernel
// (mlx-community's SmolVLM conversions), quantized, runs on the CPU as the
// oracle runs transformers' layout.
func TestIdefics3MLXLayout(t *testing.T) {
	spec := modeltest.Spec{Arch: "idefics3", Layers: 2, Seed: 12, DType: model.BF16, QuantBits: 4, GroupSize: 32}
	config, w, err := hfref.Load(modeltest.New(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	tiles := [][]float32{tilePixels(4), tilePixels(5), tilePixels(6)}
	feats, want := idefics3Case.expect(t, config, w, tiles)
	spec.VisionLayout = "mlx"
	checkImages(t, modeltest.New(t, spec), executors["cpu"], idefics3Case, tiles, feats, want)
}
