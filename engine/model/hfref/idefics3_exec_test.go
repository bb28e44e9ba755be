//go:build !race

package hfref_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
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

// idefics3Spans are the runs of <image> tokens of ids, one per tile.
func idefics3Spans(ids []int, embeds [][]float32) []model.ImageSpan {
	var spans []model.ImageSpan
	for t, id := range ids {
		if id == modeltest.Idefics3Image && (t == 0 || ids[t-1] != modeltest.Idefics3Image) {
			spans = append(spans, model.ImageSpan{At: t, Embeds: embeds[len(spans)]})
		}
	}
	return spans
}

// TestIdefics3Executors runs Idefics3's vision tower, connector and tile
// splice on the executors and compares each tile's features and the logits
// after an image+text prompt with the float64 oracle written from
// modeling_idefics3.py: the prompt in one call, in chunks of 5 (which end
// inside the text between tiles), and decoded on after the image. The oracle
// attends causally over the image tokens; an executor that let a tile's
// tokens see each other both ways would fail here.
func TestIdefics3Executors(t *testing.T) {
	run := map[string]hfref.NewRunner{
		"reference": executors["reference"],
		"cpu":       executors["cpu"],
		"cpu/chunk5": func(m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true, PrefillChunk: 5})
		},
	}
	for _, form := range []modeltest.Spec{
		{DType: model.F32},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32},
	} {
		form.Arch, form.Layers, form.Seed = "idefics3", 3, 41
		dir := modeltest.New(t, form)
		config, w, err := hfref.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		tiles := [][]float32{tilePixels(1), tilePixels(2), tilePixels(3)}
		var wide [][]float64
		var feats [][][]float64
		for _, px := range tiles {
			wide = append(wide, widen(px))
			f, err := hfref.Idefics3TileFeatures(config, w, widen(px))
			if err != nil {
				t.Fatal(err)
			}
			feats = append(feats, f)
		}
		want, err := hfref.Idefics3LogitsWithImages(config, w, idefics3Prompt, wide)
		if err != nil {
			t.Fatal(err)
		}
		for name, nr := range run {
			t.Run(form.Name()+"/"+name, func(t *testing.T) {
				checkIdefics3(t, dir, nr, tiles, feats, want)
			})
		}
	}
}

func checkIdefics3(t *testing.T, dir string, nr hfref.NewRunner, tiles [][]float32, feats [][][]float64, want [][]float64) {
	ctx := context.Background()
	m, err := model.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := nr(m)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seq, err := r.NewSequence(len(idefics3Prompt))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	im := seq.(model.Imager)
	var embeds [][]float32
	for i, px := range tiles {
		e, err := im.ImageEmbeds(ctx, px)
		if err != nil {
			t.Fatal(err)
		}
		if len(e) != modeltest.Idefics3Tokens*m.Config.HiddenSize {
			t.Fatalf("tile %d: %d values", i, len(e))
		}
		hidden := m.Config.HiddenSize
		for tok, f := range feats[i] {
			if msg := hfref.Compare(e[tok*hidden:(tok+1)*hidden], f); msg != "" {
				t.Errorf("tile %d, feature %d: %s", i, tok, msg)
			}
		}
		embeds = append(embeds, e)
	}
	got, err := im.ForwardImages(ctx, tokens32(idefics3Prompt), idefics3Spans(idefics3Prompt, embeds))
	if err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, want[len(idefics3Prompt)-1]); msg != "" {
		t.Errorf("prompt in one call: %s", msg)
	}
	// The first tile, then the text up to the global tile one token at a
	// time, then the rest.
	if err := seq.Truncate(0); err != nil {
		t.Fatal(err)
	}
	head := 9
	if got, err = im.ForwardImages(ctx, tokens32(idefics3Prompt[:head]), idefics3Spans(idefics3Prompt[:head], embeds)); err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, want[head-1]); msg != "" {
		t.Errorf("first %d tokens: %s", head, msg)
	}
	for p := head; p < 11; p++ {
		if got, err = seq.Forward(ctx, tokens32(idefics3Prompt[p:p+1])); err != nil {
			t.Fatal(err)
		}
		if msg := hfref.Compare(got, want[p]); msg != "" {
			t.Errorf("decoding position %d: %s", p, msg)
		}
	}
	rest := idefics3Prompt[11:]
	if got, err = im.ForwardImages(ctx, tokens32(rest), idefics3Spans(rest, embeds[1:])); err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, want[len(idefics3Prompt)-1]); msg != "" {
		t.Errorf("rest of the prompt: %s", msg)
	}
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
	var wide [][]float64
	var feats [][][]float64
	for _, px := range tiles {
		wide = append(wide, widen(px))
		f, err := hfref.Idefics3TileFeatures(config, w, widen(px))
		if err != nil {
			t.Fatal(err)
		}
		feats = append(feats, f)
	}
	want, err := hfref.Idefics3LogitsWithImages(config, w, idefics3Prompt, wide)
	if err != nil {
		t.Fatal(err)
	}
	spec.VisionLayout = "mlx"
	checkIdefics3(t, modeltest.New(t, spec), executors["cpu"], tiles, feats, want)
}
