//go:build !race

package hfref_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// Qwen2.5-VL's text side on the executors against the float64 oracle
// written from modeling_qwen2_5_vl.py (qwen2vl.go): M-RoPE positions of
// images and the text after them, through one call, prefill chunks, decode,
// a prefix cut and batching. Random embeddings of each image's shape are
// given to ForwardImages in place of the tower's; TestQwen2VLEndToEnd runs
// the tower too.

// qwenImages are a 2x3 and a 3x1 grid of embeddings (h ≠ w, so that the
// text after each resumes at max(h, w), not at the count of its tokens),
// with values of order one rounded to float32 for both sides.
func qwenImages(hidden int, seed uint64) []qwenImage {
	r := rand.New(rand.NewPCG(seed, 5))
	images := []qwenImage{{grid: [3]int{1, 4, 6}}, {grid: [3]int{1, 6, 2}}}
	for i := range images {
		images[i].embeds = make([]float32, images[i].tokens()*hidden)
		for j := range images[i].embeds {
			images[i].embeds[j] = float32(r.NormFloat64())
		}
	}
	return images
}

var qwenText = [][]int{{1, 45, 300}, {7, 88, 19}, {220, 9, 14, 402}}

// qwenOracle is the oracle's logits for ids holding the first n images.
func qwenOracle(t *testing.T, config map[string]any, w hfref.Tensors, ids []int, images []qwenImage) [][]float64 {
	t.Helper()
	var grids [][3]int
	var feats [][]float64
	hidden := 0
	for _, im := range images {
		grids = append(grids, im.grid)
		hidden = len(im.embeds) / im.tokens()
		for r := range im.tokens() {
			feats = append(feats, widen(im.embeds[r*hidden:(r+1)*hidden]))
		}
	}
	want, err := hfref.Qwen2VLLogits(config, w, ids, grids, feats)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// qwenDir writes the tiny Qwen2.5-VL of spec with its vision tower: the
// tests of the text side give ForwardImages embeddings of their own.
func qwenDir(t *testing.T, spec modeltest.Spec) string {
	t.Helper()
	dir := t.TempDir()
	if err := modeltest.WriteQwen2VL(dir, spec, modeltest.QwenVision{Seed: 4}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openQwen opens the model in dir on the executor nr makes.
func openQwen(t *testing.T, dir string, nr hfref.NewRunner) model.Runner {
	t.Helper()
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	r, err := nr(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

var qwenRunners = map[string]hfref.NewRunner{
	"reference": executors["reference"],
	"cpu":       executors["cpu"],
	"cpu/chunk5": func(m *model.Model) (model.Runner, error) {
		return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true, PrefillChunk: 5})
	},
}

// TestQwen2VLImages compares the logits after a prompt with two images
// with the oracle's: in one call; cut after the first image's text and
// decoded on token by token (positions behind the cache index by the
// image's delta), then the rest with the second image; decoding after the
// prompt; and the prompt resumed from a cut after the first image (the
// prefix cache's case), on every layout.
func TestQwen2VLImages(t *testing.T) {
	for _, spec := range []modeltest.Spec{
		{Arch: "qwen2vl", Layers: 2, Seed: 31},
		{Arch: "qwen2vl", Layers: 2, Seed: 31, DType: model.BF16, QuantBits: 4, GroupSize: 32, Tied: true, VisionLayout: "hf452"},
		{Arch: "qwen2vl", Layers: 2, Seed: 31, DType: model.F16, VisionLayout: "mlx"},
	} {
		dir := qwenDir(t, spec)
		config, w, err := hfref.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		images := qwenImages(64, 7)
		ids := qwenPrompt(images, qwenText...)
		extra := []int{300, 12}
		want := qwenOracle(t, config, w, append(append([]int(nil), ids...), extra...), images)
		first := len(qwenPrompt(images[:1], qwenText[0], qwenText[1][:1])) // the first image and one token after it
		split := first + 2                                                 // decoded: the rest of the text before the second image
		layout := spec.VisionLayout
		if layout == "" {
			layout = "qwen"
		}
		for name, nr := range qwenRunners {
			t.Run(spec.Name()+"/"+layout+"/"+name, func(t *testing.T) {
				r := openQwen(t, dir, nr)
				checkQwen(t, r, ids, images, extra, first, split, want)
			})
		}
	}
}

func checkQwen(t *testing.T, r model.Runner, ids []int, images []qwenImage, extra []int, first, split int, want [][]float64) {
	ctx := context.Background()
	seq, err := r.NewSequence(len(ids) + len(extra))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	im := seq.(model.Imager)
	forward := func(what string, from, to int) {
		t.Helper()
		part := ids[from:to]
		got, err := im.ForwardImages(ctx, tokens32(part), qwenSpans(ids[:to], images, from))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if msg := hfref.Compare(got, want[to-1]); msg != "" {
			t.Errorf("%s: %s", what, msg)
		}
	}
	forward("prompt in one call", 0, len(ids))
	for i, tok := range extra {
		got, err := seq.Forward(ctx, []int32{int32(tok)})
		if err != nil {
			t.Fatal(err)
		}
		if msg := hfref.Compare(got, want[len(ids)+i]); msg != "" {
			t.Errorf("decoding after the images, token %d: %s", i, msg)
		}
	}
	if err := seq.Truncate(first); err != nil {
		t.Fatal(err)
	}
	forward("resumed after the first image", first, len(ids))

	if err := seq.Truncate(0); err != nil {
		t.Fatal(err)
	}
	forward("up to the first image's text", 0, first)
	for p := first; p < split; p++ {
		got, err := seq.Forward(ctx, tokens32(ids[p:p+1]))
		if err != nil {
			t.Fatal(err)
		}
		if msg := hfref.Compare(got, want[p]); msg != "" {
			t.Errorf("decoding position %d after the first image: %s", p, msg)
		}
	}
	forward("the rest, with the second image", split, len(ids))
}

// TestQwen2VLBatch decodes two sequences in one ForwardBatch step whose
// rope deltas differ (one after an image, one after text only), each
// against the oracle.
func TestQwen2VLBatch(t *testing.T) {
	dir := qwenDir(t, modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 33})
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	images := qwenImages(64, 9)
	a := qwenPrompt(images[:1], qwenText[0], qwenText[1])
	b := []int{1, 45, 300, 7, 220, 19, 402, 88}
	next := [][]int{{402, 12, 5}, {88, 9, 260}}
	wantA := qwenOracle(t, config, w, append(append([]int(nil), a...), next[0]...), images[:1])
	wantB := qwenOracle(t, config, w, append(append([]int(nil), b...), next[1]...), nil)
	r := openQwen(t, dir, executors["cpu"])
	ctx := context.Background()
	var seqs []model.Sequence
	for _, p := range [][]int{a, b} {
		s, err := r.NewSequence(32)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.(model.Imager).ForwardImages(ctx, tokens32(p), qwenSpans(p, images, 0)); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	for step := range next[0] {
		out, err := r.(model.Batcher).ForwardBatch(ctx, seqs, [][]int32{{int32(next[0][step])}, {int32(next[1][step])}})
		if err != nil {
			t.Fatal(err)
		}
		if msg := hfref.Compare(out[0], wantA[len(a)+step]); msg != "" {
			t.Errorf("step %d, the sequence with an image: %s", step, msg)
		}
		if msg := hfref.Compare(out[1], wantB[len(b)+step]); msg != "" {
			t.Errorf("step %d, the text-only sequence: %s", step, msg)
		}
	}
}

// TestQwen2VLSectionsMatter: the oracle with every rotary pair following the
// temporal component (mrope_section [8, 0, 0], M-RoPE ignored) gives logits
// the executors' are far from, so TestQwen2VLImages would catch an executor
// that ignored mrope_section or an image's grid.
func TestQwen2VLSectionsMatter(t *testing.T) {
	dir := qwenDir(t, modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 31})
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	images := qwenImages(64, 7)
	ids := qwenPrompt(images, qwenText...)
	config["rope_scaling"] = map[string]any{"type": "mrope", "mrope_section": []any{8.0, 0.0, 0.0}}
	ignored := qwenOracle(t, config, w, ids, images)
	r := openQwen(t, dir, executors["cpu"])
	seq, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	got, err := seq.(model.Imager).ForwardImages(context.Background(), tokens32(ids), qwenSpans(ids, images, 0))
	if err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, ignored[len(ids)-1]); msg == "" {
		t.Error("the logits match an oracle that ignores mrope_section: the test prompt cannot tell M-RoPE apart")
	}
}

// TestQwen2VLText: without images every token's three positions are its
// index, so the text model is Qwen2's: the same weights as
// Qwen2ForCausalLM give the same logits on every executor, token by token
// and in one call, and they match the oracle's text-only branch.
func TestQwen2VLText(t *testing.T) {
	spec := modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 35, Vocab: modeltest.Qwen2VLVocab}
	dir := modeltest.New(t, spec)
	spec.Arch = "qwen2"
	plain := modeltest.New(t, spec)
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := qwenOracle(t, config, w, prompt, nil)
	ctx := context.Background()
	for name, nr := range executors {
		t.Run(name, func(t *testing.T) {
			var logits [2][][]float32
			for k, d := range []string{dir, plain} {
				m, err := model.Open(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				r, err := nr(m)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				seq, err := r.NewSequence(len(prompt))
				if err != nil {
					t.Fatal(err)
				}
				defer seq.Close()
				for p := range prompt {
					got, err := seq.Forward(ctx, tokens32(prompt[p:p+1]))
					if err != nil {
						t.Fatal(err)
					}
					logits[k] = append(logits[k], append([]float32(nil), got...))
				}
			}
			for p := range prompt {
				if msg := hfref.Compare(logits[0][p], want[p]); msg != "" {
					t.Errorf("position %d against the oracle: %s", p, msg)
				}
				for i, v := range logits[0][p] {
					if v != logits[1][p][i] {
						t.Fatalf("position %d, logit %d: %v, Qwen2ForCausalLM's %v", p, i, v, logits[1][p][i])
					}
				}
			}
		})
	}
}

// TestQwen2VLGridChecked: an image whose grid does not hold its embeddings,
// or a video's grid, is refused before anything runs.
func TestQwen2VLGridChecked(t *testing.T) {
	dir := qwenDir(t, modeltest.Spec{Arch: "qwen2vl", Layers: 1, Seed: 3})
	images := qwenImages(64, 1)
	ids := qwenPrompt(images[:1], qwenText[0], qwenText[1])
	for name, nr := range qwenRunners {
		t.Run(name, func(t *testing.T) {
			r := openQwen(t, dir, nr)
			seq, err := r.NewSequence(len(ids))
			if err != nil {
				t.Fatal(err)
			}
			defer seq.Close()
			for _, grid := range [][3]int{{1, 2, 2}, {2, 1, 3}, {0, 0, 0}} {
				spans := qwenSpans(ids, images, 0)
				spans[0].Grid = grid
				if _, err := seq.(model.Imager).ForwardImages(context.Background(), tokens32(ids), spans); err == nil {
					t.Errorf("grid %v for 6 embeddings accepted", grid)
				}
				if seq.Len() != 0 {
					t.Fatalf("grid %v: the refused prompt left %d tokens", grid, seq.Len())
				}
			}
		})
	}
}

// TestQwen2VLEndToEnd runs a tiny Qwen2.5-VL with its vision tower
// (engine/model/qwenvit) on the executors and checks both halves against
// the oracles written from modeling_qwen2_5_vl.py: each image's embeddings
// against the tower's (QwenImageFeatures), then the logits after the
// prompt and two decoded tokens against the text side's (Qwen2VLLogits) fed
// with the tower oracle's features, in Qwen's and transformers ≥ 4.52's
// layouts, and a Qwen2-VL with its own tower.
func TestQwen2VLEndToEnd(t *testing.T) {
	grids := [][3]int{{1, 4, 6}, {1, 6, 2}} // patches: 2x3 and 3x1 embeddings
	r := rand.New(rand.NewPCG(11, 2))
	var pixels [][]float32
	for _, g := range grids {
		px := make([]float32, g[0]*g[1]*g[2]*3*2*4*4) // channels, frames, 4x4 pixels a patch
		for i := range px {
			px[i] = float32(r.Float64()*2 - 1)
		}
		pixels = append(pixels, px)
	}
	for _, c := range []struct {
		name, layout string
		tower        modeltest.QwenVision
		features     func(map[string]any, hfref.Tensors, []float64, [3]int) ([][]float64, error)
	}{
		{"qwen2.5-vl", "", modeltest.QwenVision{Seed: 4}, hfref.QwenImageFeatures},
		{"qwen2.5-vl", "hf452", modeltest.QwenVision{Seed: 4}, hfref.QwenImageFeatures},
		{"qwen2-vl", "", modeltest.QwenVision{Seed: 4, Qwen2VL: true}, hfref.Qwen2VLImageFeatures},
	} {
		dir := t.TempDir()
		spec := modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 37, VisionLayout: c.layout}
		if err := modeltest.WriteQwen2VL(dir, spec, c.tower); err != nil {
			t.Fatal(err)
		}
		config, w, err := hfref.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		images := make([]qwenImage, len(grids))
		var feats [][]float64
		var perImage [][][]float64
		for k, g := range grids {
			f, err := c.features(config, w, widen(pixels[k]), g)
			if err != nil {
				t.Fatal(err)
			}
			images[k].grid = g
			feats = append(feats, f...)
			perImage = append(perImage, f)
		}
		ids := qwenPrompt(images, qwenText...)
		extra := []int{300, 12}
		all := append(append([]int(nil), ids...), extra...)
		want, err := hfref.Qwen2VLLogits(config, w, all, grids, feats)
		if err != nil {
			t.Fatal(err)
		}
		for name, nr := range qwenRunners {
			t.Run(c.name+"/layout="+c.layout+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				m, err := model.Open(ctx, dir)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				run, err := nr(m)
				if err != nil {
					t.Fatal(err)
				}
				defer run.Close()
				seq, err := run.NewSequence(len(all))
				if err != nil {
					t.Fatal(err)
				}
				defer seq.Close()
				im := seq.(model.Imager)
				got := make([]qwenImage, len(grids))
				for k, g := range grids {
					e, err := im.ImageGridEmbeds(ctx, pixels[k], g)
					if err != nil {
						t.Fatal(err)
					}
					if len(e) != len(perImage[k])*m.Config.HiddenSize {
						t.Fatalf("image %d: %d values, want %d embeddings", k, len(e), len(perImage[k]))
					}
					for row, f := range perImage[k] {
						h := m.Config.HiddenSize
						if msg := hfref.Compare(e[row*h:(row+1)*h], f); msg != "" {
							t.Errorf("image %d, embedding %d: %s", k, row, msg)
						}
					}
					got[k] = qwenImage{grid: g, embeds: e}
				}
				logits, err := im.ForwardImages(ctx, tokens32(ids), qwenSpans(ids, got, 0))
				if err != nil {
					t.Fatal(err)
				}
				if msg := hfref.Compare(logits, want[len(ids)-1]); msg != "" {
					t.Errorf("image and text prompt: %s", msg)
				}
				for i, tok := range extra {
					if logits, err = seq.Forward(ctx, []int32{int32(tok)}); err != nil {
						t.Fatal(err)
					}
					if msg := hfref.Compare(logits, want[len(ids)+i]); msg != "" {
						t.Errorf("decoding after the images, token %d: %s", i, msg)
					}
				}
			})
		}
	}
}
