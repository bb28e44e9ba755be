package vision

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// qwenPatches64 is Qwen2VLImageProcessor._preprocess for one RGB image,
// written from image_processing_qwen2_vl.py in float64: the resized image
// (Resize, which TestPIL checks against PIL) rescaled and normalised,
// stacked over temporal_patch_size frames as patches.expand does, reshaped
// to (grid_t, temporal, channel, gh/m, m, patch, gw/m, m, patch), transposed
// (0, 3, 6, 4, 7, 2, 1, 5, 8) and flattened, the transpose done on index
// tuples as numpy does it.
func qwenPatches64(t *testing.T, p *Processor, img *RGB, h, w int) ([]float64, [3]int) {
	t.Helper()
	img, err := Resize(img, w, h, p.Resample)
	if err != nil {
		t.Fatal(err)
	}
	T, P, M := p.TemporalPatch, p.Patch, p.Merge
	frames := 1
	if frames%T != 0 {
		frames += T - frames%T // the last frame repeated up to a multiple of T
	}
	// patches (frames, channel, h, w)
	at := func(f, c, y, x int) float64 {
		v := float64(img.Pix[(y*w+x)*3+c]) * p.RescaleFactor
		return (v - p.Mean[c]) / p.Std[c]
	}
	gt, gh, gw := frames/T, h/P, w/P
	in := []int{gt, T, 3, gh / M, M, P, gw / M, M, P}
	perm := []int{0, 3, 6, 4, 7, 2, 1, 5, 8}
	outShape := make([]int, 9)
	for i, a := range perm {
		outShape[i] = in[a]
	}
	n := 1
	for _, d := range outShape {
		n *= d
	}
	out := make([]float64, n)
	idx := make([]int, 9)
	for k := range n {
		r := k
		for i := 8; i >= 0; i-- {
			idx[i] = r % outShape[i]
			r /= outShape[i]
		}
		var src [9]int
		for i, a := range perm {
			src[a] = idx[i]
		}
		// (gt, T, C, gh/M, M, P, gw/M, M, P) → frame, channel, y, x
		f := src[0]*T + src[1]
		y := (src[3]*M+src[4])*P + src[5]
		x := (src[6]*M+src[7])*P + src[8]
		out[k] = at(f, src[2], y, x)
	}
	return out, [3]int{gt, gh, gw}
}

func qwenProcessor(t *testing.T, extra string) *Processor {
	t.Helper()
	b := readTestdata(t, "Qwen2.5-VL-3B-Instruct.preprocessor_config.json")
	if extra != "" {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(extra), &m); err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(m)
	}
	p, err := ParseProcessor(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQwenProcessorConfig reads Qwen2.5-VL-3B-Instruct's
// preprocessor_config.json (transcribed from the checkpoint) and refuses
// what the processor cannot do, by key.
func TestQwenProcessorConfig(t *testing.T) {
	p := qwenProcessor(t, "")
	want := Processor{Type: "Qwen2VLImageProcessor", Resample: Bicubic, DoResize: true, DoRescale: true, RescaleFactor: 1.0 / 255,
		DoNormalize: true, Mean: [3]float64{0.48145466, 0.4578275, 0.40821073}, Std: [3]float64{0.26862954, 0.26130258, 0.27577711},
		MinPixels: 3136, MaxPixels: 12845056, Patch: 14, TemporalPatch: 2, Merge: 2}
	if *p != want {
		t.Fatalf("%+v, want %+v", *p, want)
	}
	// size bounds the area; min_pixels and max_pixels, when given, win.
	p, err := ParseProcessor([]byte(`{"image_processor_type": "Qwen2VLImageProcessorFast", "size": {"shortest_edge": 100, "longest_edge": 5000}, "max_pixels": 4000}`))
	if err != nil || p.MinPixels != 100 || p.MaxPixels != 4000 || p.Type != "Qwen2VLImageProcessor" {
		t.Fatalf("size and max_pixels: %+v, %v", p, err)
	}
	for _, c := range []struct{ json, want string }{
		{`{"image_processor_type": "Qwen2VLImageProcessor", "size": {"shortest_edge": 100}}`, "want shortest_edge and longest_edge"},
		{`{"image_processor_type": "Qwen2VLImageProcessor", "max_pixels": 1000000000}`, "max_pixels 1000000000"},
		{`{"image_processor_type": "Qwen2VLImageProcessor", "min_pixels": 0}`, "min_pixels 0"},
		{`{"image_processor_type": "Qwen2VLImageProcessor", "merge_size": 0}`, "merge_size 0"},
		{`{"image_processor_type": "Qwen2VLImageProcessor", "resample": 0}`, "resample 0"},
		{`{"image_processor_type": "Qwen2VLImageProcessor", "image_std": [1, 0, 1]}`, "image_std"},
	} {
		if _, err := ParseProcessor([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.json, err, c.want)
		}
	}
}

// TestSmartResize checks sizes worked out by hand from smart_resize,
// Python's round() rounding halves to even (70/28 = 2.5 → 2).
func TestSmartResize(t *testing.T) {
	def := qwenProcessor(t, "")
	small := qwenProcessor(t, `{"max_pixels": 1003520}`)
	for _, c := range []struct {
		p            *Processor
		h, w         int
		wantH, wantW int
	}{
		{def, 70, 70, 56, 56},         // round half to even
		{def, 42, 98, 56, 112},        // 1.5 → 2, 3.5 → 4
		{def, 3000, 4000, 2996, 4004}, // under max_pixels
		{def, 23, 37, 56, 84},         // scaled up to min_pixels 3136
		{small, 1000, 1000, 980, 980}, // floored under max_pixels 1003520
		{small, 601, 401, 588, 392},
	} {
		h, w, err := c.p.SmartResize(c.h, c.w)
		if err != nil || h != c.wantH || w != c.wantW {
			t.Errorf("%dx%d (max %d): %dx%d, %v; want %dx%d", c.w, c.h, c.p.MaxPixels, w, h, err, c.wantW, c.wantH)
		}
	}
	if _, _, err := def.SmartResize(10, 2001); err == nil || !strings.Contains(err.Error(), "aspect ratio") {
		t.Errorf("aspect ratio 200.1: %v", err)
	}
}

// TestQwenPatches compares Patches with the float64 processor above on the
// decoded test images (odd sizes, EXIF orientations, PNG, GIF, WebP, JPEG)
// and on random images that the max_pixels and min_pixels branches resize
// both ways: values within 1e-5, the grid equal.
func TestQwenPatches(t *testing.T) {
	var pc pilCases
	if err := json.Unmarshal(readTestdata(t, "cases.json"), &pc); err != nil {
		t.Fatal(err)
	}
	type input struct {
		name string
		img  *RGB
		p    *Processor
	}
	var ins []input
	seen := map[string]bool{}
	def := qwenProcessor(t, "")
	for _, c := range pc.Cases {
		if seen[c.Image] || c.Image == "photo.jpg" {
			continue
		}
		seen[c.Image] = true
		img, err := Decode(readTestdata(t, c.Image), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, input{c.Image, img, def})
	}
	photo, err := Decode(readTestdata(t, "photo.jpg"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 28))
	ins = append(ins,
		input{"photo.jpg under 200 blocks", photo, qwenProcessor(t, `{"max_pixels": 156800}`)},
		input{"57x91", randomRGB(r, 57, 91), def},
		input{"300x29 scaled up", randomRGB(r, 300, 29), qwenProcessor(t, `{"min_pixels": 50000}`)},
		input{"1000x41 scaled down", randomRGB(r, 1000, 41), qwenProcessor(t, `{"max_pixels": 25088}`)},
	)
	for _, in := range ins {
		t.Run(in.name, func(t *testing.T) {
			got, grid, err := in.p.Patches(in.img)
			if err != nil {
				t.Fatal(err)
			}
			h, w, err := in.p.SmartResize(in.img.H, in.img.W)
			if err != nil {
				t.Fatal(err)
			}
			want, wantGrid := qwenPatches64(t, in.p, in.img, h, w)
			if grid != wantGrid || len(got) != len(want) {
				t.Fatalf("grid %v of %d values, want %v of %d", grid, len(got), wantGrid, len(want))
			}
			for i := range got {
				if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5 {
					t.Fatalf("value %d (patch %d): %g, want %g", i, i/(3*2*14*14), got[i], want[i])
				}
			}
		})
	}
}

// TestQwenTiles: ProcessTiles hands a Qwen image as one tile of patches
// with its grid, and an undecodable or oversized image is a clear error.
func TestQwenTiles(t *testing.T) {
	p := qwenProcessor(t, "")
	tl, err := p.ProcessTiles(readTestdata(t, "gray.png"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Tiles) != 1 || tl.Grid[0] != 1 || len(tl.Tiles[0]) != tl.Grid[0]*tl.Grid[1]*tl.Grid[2]*3*2*14*14 || tl.Rows != 0 {
		t.Fatalf("tiling %d tiles, grid %v", len(tl.Tiles), tl.Grid)
	}
	if _, err := p.ProcessTiles(readTestdata(t, "photo.jpg"), Limits{MaxPixels: 1000}); err == nil {
		t.Error("an image over the pixel limit was processed")
	}
	if _, err := p.ProcessTiles([]byte("not an image"), Limits{}); err == nil {
		t.Error("garbage was processed")
	}
}

// TestQwenPatchesEdges: a 1x1 image is scaled up to min_pixels (56x56, a
// 4x4 grid), an aspect ratio of 200 is read and one past it refused, and a
// max_pixels under one block of 28x28 leaves nothing to resize to: errors,
// never a panic.
func TestQwenPatchesEdges(t *testing.T) {
	p := qwenProcessor(t, "")
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		w, h int
		grid [3]int
		err  string
	}{
		{1, 1, [3]int{1, 4, 4}, ""},
		{200, 1, [3]int{1, 2, 58}, ""}, // 28x812: scaled up by sqrt(3136/200)
		{201, 1, [3]int{}, "aspect ratio"},
	} {
		px, grid, err := p.Patches(randomRGB(r, c.w, c.h))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%dx%d: %v, want %q", c.w, c.h, err, c.err)
		case c.err == "" && (err != nil || grid != c.grid || len(px) != grid[1]*grid[2]*3*2*14*14):
			t.Errorf("%dx%d: grid %v of %d values, %v; want %v", c.w, c.h, grid, len(px), err, c.grid)
		}
	}
	tiny := qwenProcessor(t, `{"min_pixels": 100, "max_pixels": 500}`)
	if _, _, err := tiny.Patches(randomRGB(r, 40, 40)); err == nil || !strings.Contains(err.Error(), "max_pixels 500") {
		t.Errorf("max_pixels under one block: %v", err)
	}
}
