package hfref

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// visionModel is modeltest's tiny Gemma3ForConditionalGeneration (text
// hidden 64, sliding windows wider than the prompts) with its SigLIP tower of
// 16x16 images in 4x4 patches (a 4x4 grid) pooled to 4 tokens, read from the
// files in the real layout.
func visionModel(t *testing.T) (map[string]any, Tensors) {
	t.Helper()
	c, w, err := Load(modeltest.New(t, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 7, SlidingWindow: 64}))
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

func randomPixels(seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	px := make([]float64, 3*16*16)
	for i := range px {
		px[i] = r.Float64()*2 - 1
	}
	return px
}

const imageTok = modeltest.ImageToken

func TestImageFeatures(t *testing.T) {
	c, w := visionModel(t)
	f, err := ImageFeatures(c, w, randomPixels(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 4 || len(f[0]) != 64 {
		t.Fatalf("features %dx%d, want 4x64", len(f), len(f[0]))
	}
	// transformers 4.52's names (model.vision_tower..., model.multi_modal_projector...)
	// are the same model.
	moved := Tensors{}
	for k, v := range w {
		if strings.HasPrefix(k, "vision_tower.") || strings.HasPrefix(k, "multi_modal_projector.") {
			k = "model." + k
		}
		moved[k] = v
	}
	g, err := ImageFeatures(c, moved, randomPixels(1))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f {
		for j := range f[i] {
			if f[i][j] != g[i][j] {
				t.Fatalf("4.52 names: feature (%d, %d) %g, 4.50 names %g", i, j, g[i][j], f[i][j])
			}
		}
	}
	if _, err := ImageFeatures(c, w, make([]float64, 10)); err == nil {
		t.Fatal("10 pixel values accepted")
	}
}

// TestProjectorPooling checks the patch grid's order through the average
// pooling: with an identity projection and a unit norm, each token is the
// normalised mean of its 2x2 block of patches, patches numbered row by row.
func TestProjectorPooling(t *testing.T) {
	v := &vision{hidden: 2, imageSize: 16, patch: 4, tokensPerImage: 4, textHidden: 2, eps: 0}
	m := &run{w: Tensors{
		"mm_soft_emb_norm.weight":    {Shape: []int{2}, Data: []float64{0, 0}},
		"mm_input_projection_weight": {Shape: []int{2, 2}, Data: []float64{1, 0, 0, 1}},
	}}
	x := make([][]float64, 16)
	for n := range x {
		x[n] = []float64{float64(n), 1}
	}
	out := m.project(v, "", x)
	if m.err != nil {
		t.Fatal(m.err)
	}
	for ty := range 2 {
		for tx := range 2 {
			mean := (2*float64(ty)+0.5)*4 + 2*float64(tx) + 0.5
			got := out[ty*2+tx]
			if r := got[0] / got[1]; math.Abs(r-mean) > 1e-12 {
				t.Errorf("token (%d, %d) pools patches averaging %g, want %g", ty, tx, r, mean)
			}
			if n := math.Hypot(got[0], got[1]); math.Abs(n-math.Sqrt2) > 1e-12 {
				t.Errorf("token (%d, %d): norm %g, want sqrt(2) (RMS 1 over 2 features)", ty, tx, n)
			}
		}
	}
}

func imagePrompt(images int) []int {
	ids := []int{2, 45, 300}
	for range images {
		ids = append(ids, 500, imageTok, imageTok, imageTok, imageTok, 501) // <start_of_image>, <end_of_image> in the tiny vocabulary
	}
	return append(ids, 7, 220, 19)
}

func same(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestImageMask checks Gemma 3's attention over images: the tokens of one
// image see each other both ways, text stays causal, and an image's tokens
// do not see a later image.
func TestImageMask(t *testing.T) {
	c, w := visionModel(t)
	ids := imagePrompt(1)
	bi, err := LogitsWithImages(c, w, ids, [][]float64{randomPixels(1)})
	if err != nil {
		t.Fatal(err)
	}
	// The same features with a causal mask everywhere.
	v, _ := parseVision(c)
	f, _ := parse(c)
	m := &run{f: f, w: w, n: len(ids)}
	feats := m.imageFeatures(v, randomPixels(1))
	m.img = &images{token: imageTok, feats: feats, group: make([]int, len(ids))}
	for i := range m.img.group {
		m.img.group[i] = -1
	}
	causal, err := m.forward(ids)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 4 { // text and <start_of_image> see nothing after them
		if !same(bi[p], causal[p]) {
			t.Errorf("position %d (before the image tokens) depends on the mask", p)
		}
	}
	// From the first image token on (4..7, then the text after), the hidden
	// states differ: image tokens saw the image's later tokens.
	for p := 4; p < len(ids); p++ {
		if same(bi[p], causal[p]) {
			t.Errorf("position %d is the same with a causal mask over the image", p)
		}
	}

	// Two images: changing the second leaves every position before it as it was.
	two := imagePrompt(2)
	a, err := LogitsWithImages(c, w, two, [][]float64{randomPixels(1), randomPixels(2)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := LogitsWithImages(c, w, two, [][]float64{randomPixels(1), randomPixels(3)})
	if err != nil {
		t.Fatal(err)
	}
	for p := range two {
		if p < 10 && !same(a[p], b[p]) {
			t.Errorf("position %d (first image or before) sees the second image", p)
		}
		if p >= 10 && same(a[p], b[p]) {
			t.Errorf("position %d does not see the second image", p)
		}
	}
}

func TestLogitsWithImagesRefuses(t *testing.T) {
	c, w := visionModel(t)
	for _, tc := range []struct {
		ids    []int
		images int
		want   string
	}{
		{imagePrompt(1), 2, "1 images in the prompt, 2 given"},
		{[]int{2, imageTok, imageTok, 7}, 1, "fewer than 4 tokens"},
		{[]int{2, imageTok, imageTok, imageTok, imageTok, imageTok, 7}, 1, "more than 4 tokens"},
	} {
		px := make([][]float64, tc.images)
		for i := range px {
			px[i] = randomPixels(uint64(i))
		}
		if _, err := LogitsWithImages(c, w, tc.ids, px); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.ids, err, tc.want)
		}
	}
}

// TestPatchEmbed checks the convolution's indexing by scattering each pixel
// into the one patch and kernel tap it belongs to, the other way round from
// patchEmbed's gather.
func TestPatchEmbed(t *testing.T) {
	v := &vision{hidden: 3, channels: 3, imageSize: 8, patch: 4}
	r := rand.New(rand.NewPCG(9, 9))
	vec := func(n int) []float64 {
		d := make([]float64, n)
		for i := range d {
			d[i] = r.NormFloat64()
		}
		return d
	}
	cw, cb, pos, pixels := vec(3*3*4*4), vec(3), vec(4*3), vec(3*8*8)
	got := patchEmbed(v, cw, cb, pos, pixels)
	want := make([][]float64, 4)
	for n := range want {
		want[n] = make([]float64, 3)
		for o := range 3 {
			want[n][o] = cb[o] + pos[n*3+o]
		}
	}
	for c := range 3 {
		for y := range 8 {
			for x := range 8 {
				n := (y/4)*2 + x/4
				for o := range 3 {
					want[n][o] += pixels[c*64+y*8+x] * cw[o*48+c*16+(y%4)*4+x%4]
				}
			}
		}
	}
	for n := range want {
		for o := range want[n] {
			if math.Abs(got[n][o]-want[n][o]) > 1e-12 {
				t.Fatalf("patch %d feature %d: %g, scattered %g", n, o, got[n][o], want[n][o])
			}
		}
	}
}
