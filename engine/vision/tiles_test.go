//go:build !race

package vision

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// idefics3Tiles is image_processing_idefics3.preprocess for one RGB image,
// written from the transformers source in float64 (the sizes as Python
// computes them, the crops, the global image, rescale and normalise). Its
// resizes are Resize, which TestPIL checks against PIL itself.
func idefics3Tiles(t *testing.T, p *Processor, img *RGB) (tiles [][]float64, rows, cols int) {
	t.Helper()
	resize := func(img *RGB, w, h int) *RGB {
		out, err := Resize(img, w, h, p.Resample)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// resize: _resize_output_size_rescale_to_max_len, then
	// _resize_output_size_scale_below_upper_bound with MAX_IMAGE_SIZE.
	h, w := float64(img.H), float64(img.W)
	ar := w / h
	if w >= h {
		w = float64(p.LongestEdge)
		h = math.Trunc(w / ar)
		if math.Mod(h, 2) != 0 {
			h++
		}
	} else {
		h = float64(p.LongestEdge)
		w = math.Trunc(h * ar)
		if math.Mod(w, 2) != 0 {
			w++
		}
	}
	ar = w / h
	if w >= h && w > 4096 {
		w, h = 4096, math.Trunc(4096/ar)
	} else if h > w && h > 4096 {
		h, w = 4096, math.Trunc(4096*ar)
	}
	img = resize(img, int(max(w, 1)), int(max(h, 1)))
	// resize_for_vision_encoder
	m := float64(p.Tile)
	h, w = float64(img.H), float64(img.W)
	ar = w / h
	if w >= h {
		w = math.Ceil(w/m) * m
		h = math.Ceil(math.Trunc(w/ar)/m) * m
	} else {
		h = math.Ceil(h/m) * m
		w = math.Ceil(math.Trunc(h*ar)/m) * m
	}
	img = resize(img, int(w), int(h))
	norm := func(img *RGB, x0, y0, cw, ch int) []float64 {
		out := make([]float64, 3*cw*ch)
		for c := range 3 {
			for y := range ch {
				for x := range cw {
					v := float64(img.Pix[((y0+y)*img.W+x0+x)*3+c]) * p.RescaleFactor
					out[(c*ch+y)*cw+x] = (v - p.Mean[c]) / p.Std[c]
				}
			}
		}
		return out
	}
	// split_image
	if img.H > p.Tile || img.W > p.Tile {
		rows, cols = int(math.Ceil(float64(img.H)/m)), int(math.Ceil(float64(img.W)/m))
		oh, ow := int(math.Ceil(float64(img.H)/float64(rows))), int(math.Ceil(float64(img.W)/float64(cols)))
		for r := range rows {
			for c := range cols {
				x0, y0 := c*ow, r*oh
				tiles = append(tiles, norm(img, x0, y0, min(x0+ow, img.W)-x0, min(y0+oh, img.H)-y0))
			}
		}
		img = resize(img, p.Tile, p.Tile)
	}
	return append(tiles, norm(img, 0, 0, img.W, img.H)), rows, cols
}

func TestIdefics3Tiles(t *testing.T) {
	p, err := ParseProcessor(readTestdata(t, "SmolVLM-256M-Instruct.preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Processor{Type: "Idefics3ImageProcessor", Width: 512, Height: 512, Resample: Lanczos, DoResize: true,
		DoRescale: true, RescaleFactor: 0.00392156862745098, DoNormalize: true, Mean: [3]float64{0.5, 0.5, 0.5},
		Std: [3]float64{0.5, 0.5, 0.5}, LongestEdge: 2048, Tile: 512}
	if *p != want {
		t.Fatalf("SmolVLM-256M-Instruct: %+v, want %+v", *p, want)
	}
	// Smaller sizes keep the test fast; the arithmetic is the same.
	small := *p
	small.LongestEdge, small.Tile, small.Width, small.Height = 96, 32, 32, 32
	r := rand.New(rand.NewPCG(3, 28))
	for _, c := range []struct {
		p          *Processor
		w, h       int
		rows, cols int
	}{
		{p, 100, 80, 4, 4}, // the worked example: 2048x1638, then 2048x2048
		{&small, 7, 5, 3, 3},
		{&small, 5, 31, 3, 1},
		{&small, 40, 9, 1, 3},
		{&small, 33, 33, 3, 3},
		{&small, 300, 17, 1, 3},
	} {
		img := randomRGB(r, c.w, c.h)
		got, err := c.p.Tiles(img)
		if err != nil {
			t.Fatalf("%dx%d: %v", c.w, c.h, err)
		}
		tiles, rows, cols := idefics3Tiles(t, c.p, img)
		if got.Rows != rows || got.Cols != cols || rows != c.rows || cols != c.cols || len(got.Tiles) != len(tiles) {
			t.Fatalf("%dx%d: %dx%d grid of %d tiles, oracle %dx%d of %d, want %dx%d", c.w, c.h, got.Rows, got.Cols,
				len(got.Tiles), rows, cols, len(tiles), c.rows, c.cols)
		}
		for i, tile := range tiles {
			if len(got.Tiles[i]) != 3*c.p.Tile*c.p.Tile || len(tile) != len(got.Tiles[i]) {
				t.Fatalf("%dx%d: tile %d has %d values, oracle %d", c.w, c.h, i, len(got.Tiles[i]), len(tile))
			}
			for j, v := range tile {
				if math.Abs(float64(got.Tiles[i][j])-v) > 1e-5 {
					t.Fatalf("%dx%d: tile %d value %d = %v, oracle %v", c.w, c.h, i, j, got.Tiles[i][j], v)
				}
			}
		}
	}
}

func TestIdefics3ProcessorRefuses(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"image_processor_type": "Idefics3ImageProcessor", "do_image_splitting": false}`, "do_image_splitting false"},
		{`{"image_processor_type": "Idefics3ImageProcessor", "size": {"height": 4, "width": 4}}`, "want longest_edge"},
		{`{"image_processor_type": "Idefics3ImageProcessor", "max_image_size": {"longest_edge": 0}}`, "max_image_size.longest_edge 0"},
		{`{"image_processor_type": "Idefics3ImageProcessor", "size": {"longest_edge": 9000}}`, "size.longest_edge 9000"},
	} {
		if _, err := ParseProcessor([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.json, err, c.want)
		}
	}
	// SmolVLM2's class defaults to tiles of 512.
	p, err := ParseProcessor([]byte(`{"image_processor_type": "SmolVLMImageProcessor"}`))
	if err != nil || p.Tile != 512 || p.LongestEdge != 2048 || p.Width != 512 || p.Resample != Lanczos {
		t.Fatalf("SmolVLMImageProcessor: %+v, %v", p, err)
	}
}
