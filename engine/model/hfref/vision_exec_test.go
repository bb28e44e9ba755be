//go:build !race

package hfref_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

const imageToken = modeltest.ImageToken

// imagePixels are pixel values in the processor's range, (3, 16, 16).
func imagePixels(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	px := make([]float32, 3*16*16)
	for i := range px {
		px[i] = float32(r.Float64()*2 - 1)
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

// visionPrompt holds two images (<start_of_image>, four image tokens,
// <end_of_image>) between text, as Gemma 3's processor expands them.
var visionPrompt = []int{2, 45, 300, 500, imageToken, imageToken, imageToken, imageToken, 501, 7, 88,
	500, imageToken, imageToken, imageToken, imageToken, 501, 220, 19, 64}

// gemma3Case cuts visionPrompt inside the text after the first image and
// decodes up to the second.
var gemma3Case = &imageCase{ids: visionPrompt, token: imageToken, head: 10, split: 11,
	features: hfref.ImageFeatures, logits: hfref.LogitsWithImages}

func tokens32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// TestVisionExecutors runs Gemma 3's vision tower, projector and image splice
// on the executors and compares the image embeddings and the logits after an
// image+text prompt with the float64 oracle: the prompt in one call, in
// chunks that would cut an image (the CPU's prefill chunk of 5), and decoded
// on after the images. The sliding window (3) is shorter than an image (4 tokens), so
// sliding layers mix the window with the images' own mask.
func TestVisionExecutors(t *testing.T) {
	gemma3Case.onExecutors(t, modeltest.Spec{Arch: "gemma3mm", Layers: 6, Seed: 31, SlidingWindow: 3},
		[][]float32{imagePixels(1), imagePixels(2)})
}

// TestVisionRefusals checks the clear errors: a span that leaves the tokens
// or cuts another, pixels of the wrong size, a text-only model given an
// image, and the graph executor, which does not run vision towers.
func TestVisionRefusals(t *testing.T) {
	ctx := context.Background()
	dir := modeltest.New(t, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 3})
	m, err := model.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, name := range []string{"reference", "cpu"} {
		r, err := executors[name](m)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := r.NewSequence(32)
		if err != nil {
			t.Fatal(err)
		}
		im := seq.(model.Imager)
		if _, err := im.ImageEmbeds(ctx, make([]float32, 10)); err == nil {
			t.Errorf("%s: 10 pixel values accepted", name)
		}
		hidden := m.Config.HiddenSize
		four := make([]float32, 4*hidden)
		for _, spans := range [][]model.ImageSpan{
			{{At: 3, Embeds: four}},                        // leaves the 6 tokens
			{{At: 0, Embeds: four}, {At: 2, Embeds: four}}, // overlap
			{{At: 0, Embeds: make([]float32, hidden+1)}},   // not whole rows
		} {
			if _, err := im.ForwardImages(ctx, []int32{imageToken, imageToken, imageToken, imageToken, 7, 8}, spans); err == nil {
				t.Errorf("%s: spans %v accepted", name, spans[0].At)
			}
			if seq.Len() != 0 {
				t.Errorf("%s: a refused forward left %d tokens", name, seq.Len())
			}
		}
		seq.Close()
		r.Close()
	}

	text := modeltest.New(t, modeltest.Spec{Arch: "gemma3", Layers: 2, Seed: 3})
	tm, err := model.Open(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if _, ok := tm.Def.(model.Vision); ok {
		t.Fatal("a Gemma3ForCausalLM has a vision tower")
	}
	r, err := executors["cpu"](tm)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seq, _ := r.NewSequence(8)
	defer seq.Close()
	if _, err := seq.(model.Imager).ImageEmbeds(ctx, imagePixels(1)); !errors.Is(err, cpu.ErrNoVision) {
		t.Errorf("text model given an image: %v, want ErrNoVision", err)
	}

	g, err := executors["graph"](m)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	gs, err := g.NewSequence(8)
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	if _, ok := gs.(model.Imager); ok {
		t.Error("the graph executor's sequences claim to run images")
	}
}

// TestVisionLayouts: the same model saved in transformers 4.52's names and
// with mlx-vlm's (out, ky, kx, channel) patch kernel runs on the CPU as the
// oracle runs the 4.50 layout.
func TestVisionLayouts(t *testing.T) {
	spec := modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 12, SlidingWindow: 64}
	config, w, err := hfref.Load(modeltest.New(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	pixels := [][]float32{imagePixels(5), imagePixels(6)}
	feats, want := gemma3Case.expect(t, config, w, pixels)
	for _, layout := range []string{"hf452", "mlx"} {
		t.Run(layout, func(t *testing.T) {
			s := spec
			s.VisionLayout = layout
			checkImages(t, modeltest.New(t, s), executors["cpu"], gemma3Case, pixels, feats, want)
		})
	}
}
