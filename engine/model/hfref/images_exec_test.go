//go:build !race

package hfref_test

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// imageCase is a vision family's prompt with images, its float64 oracle, and
// how checkImages cuts the prompt: the first head tokens, then one token at
// a time up to split, then the rest, whose images start from the second.
type imageCase struct {
	ids         []int
	token       int // the image placeholder, one run of it per image
	head, split int
	features    func(config map[string]any, w hfref.Tensors, pixels []float64) ([][]float64, error)
	logits      func(config map[string]any, w hfref.Tensors, ids []int, pixels [][]float64) ([][]float64, error)
}

// spans are the runs of c.token in ids with their embeddings, in order.
func (c *imageCase) spans(ids []int, embeds [][]float32) []model.ImageSpan {
	var spans []model.ImageSpan
	for t, id := range ids {
		if id == c.token && (t == 0 || ids[t-1] != c.token) {
			spans = append(spans, model.ImageSpan{At: t, Embeds: embeds[len(spans)]})
		}
	}
	return spans
}

// expect is what the oracle computes for the images: each one's features
// and the logits after every token of the prompt.
func (c *imageCase) expect(t *testing.T, config map[string]any, w hfref.Tensors, pixels [][]float32) (feats [][][]float64, want [][]float64) {
	t.Helper()
	var wide [][]float64
	for _, px := range pixels {
		wide = append(wide, widen(px))
		f, err := c.features(config, w, widen(px))
		if err != nil {
			t.Fatal(err)
		}
		feats = append(feats, f)
	}
	want, err := c.logits(config, w, c.ids, wide)
	if err != nil {
		t.Fatal(err)
	}
	return feats, want
}

// onExecutors checks c on the reference executor, the CPU, and the CPU with
// prefill chunks of 5 (which cut the prompt where the images are), for the
// model spec describes in float and MLX 4-bit.
func (c *imageCase) onExecutors(t *testing.T, spec modeltest.Spec, pixels [][]float32) {
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
		s := spec
		s.DType, s.QuantBits, s.GroupSize = form.DType, form.QuantBits, form.GroupSize
		dir := modeltest.New(t, s)
		config, w, err := hfref.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		feats, want := c.expect(t, config, w, pixels)
		for name, nr := range run {
			t.Run(s.Name()+"/"+name, func(t *testing.T) {
				checkImages(t, dir, nr, c, pixels, feats, want)
			})
		}
	}
}

// checkImages runs the images and the prompt on an executor and compares
// each image's embeddings and the logits with the oracle's: the prompt in
// one call, then cut as c says.
func checkImages(t *testing.T, dir string, nr hfref.NewRunner, c *imageCase, pixels [][]float32, feats [][][]float64, want [][]float64) {
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
	seq, err := r.NewSequence(len(c.ids))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	im, ok := seq.(model.Imager)
	if !ok {
		t.Fatalf("%s: sequences do not run images", r.Backend())
	}
	hidden := m.Config.HiddenSize
	var embeds [][]float32
	for i, px := range pixels {
		e, err := im.ImageEmbeds(ctx, px)
		if err != nil {
			t.Fatal(err)
		}
		if len(e) != len(feats[i])*hidden {
			t.Fatalf("image %d: %d values, want %d embeddings of %d", i, len(e), len(feats[i]), hidden)
		}
		for tok, f := range feats[i] {
			if msg := hfref.Compare(e[tok*hidden:(tok+1)*hidden], f); msg != "" {
				t.Errorf("image %d, embedding %d: %s", i, tok, msg)
			}
		}
		embeds = append(embeds, e)
	}
	if seq.Len() != 0 {
		t.Fatalf("the vision tower left %d tokens in the cache", seq.Len())
	}
	got, err := im.ForwardImages(ctx, tokens32(c.ids), c.spans(c.ids, embeds))
	if err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, want[len(c.ids)-1]); msg != "" {
		t.Errorf("prompt in one call: %s", msg)
	}
	if err := seq.Truncate(0); err != nil {
		t.Fatal(err)
	}
	head := c.ids[:c.head]
	if got, err = im.ForwardImages(ctx, tokens32(head), c.spans(head, embeds)); err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, want[c.head-1]); msg != "" {
		t.Errorf("first %d tokens: %s", c.head, msg)
	}
	for p := c.head; p < c.split; p++ {
		if got, err = seq.Forward(ctx, tokens32(c.ids[p:p+1])); err != nil {
			t.Fatal(err)
		}
		if msg := hfref.Compare(got, want[p]); msg != "" {
			t.Errorf("decoding position %d: %s", p, msg)
		}
	}
	rest := c.ids[c.split:]
	if got, err = im.ForwardImages(ctx, tokens32(rest), c.spans(rest, embeds[1:])); err != nil {
		t.Fatal(err)
	}
	if msg := hfref.Compare(got, want[len(c.ids)-1]); msg != "" {
		t.Errorf("rest of the prompt after decoding: %s", msg)
	}
}
