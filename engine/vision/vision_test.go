package vision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// pilResize64 is PIL's convolution resampling (Resample.c) in float64, with
// neither fixed-point coefficients nor per-pass rounding: it checks the
// geometry of Resize (support widened by the scale when downscaling, bounds
// rounded from the centre, weights normalised per output pixel). Fixed-point
// weights can tip a near-tie of the 8-bit intermediate image by a level,
// which reaches the output as at most 1.5 levels from this.
func pilResize64(in *RGB, w, h int, kernel func(float64) float64, support float64) [][3]float64 {
	axis := func(inSize, outSize int) (mins []int, ws [][]float64) {
		scale := float64(inSize) / float64(outSize)
		fs := math.Max(scale, 1)
		sup := support * fs
		for o := range outSize {
			center := (float64(o) + 0.5) * scale
			lo := int(math.Max(math.Trunc(center-sup+0.5), 0))
			hi := int(math.Min(math.Trunc(center+sup+0.5), float64(inSize)))
			var wt []float64
			total := 0.0
			for i := lo; i < hi; i++ {
				v := kernel((float64(i) - center + 0.5) / fs)
				wt = append(wt, v)
				total += v
			}
			for i := range wt {
				wt[i] /= total
			}
			mins, ws = append(mins, lo), append(ws, wt)
		}
		return mins, ws
	}
	xmin, xw := axis(in.W, w)
	ymin, yw := axis(in.H, h)
	// Horizontal pass rounded to bytes (PIL stores the intermediate image as
	// 8-bit), then vertical, as Resample.c orders them.
	mid := make([][3]float64, w*in.H)
	if w == in.W {
		for i := range mid {
			for c := range 3 {
				mid[i][c] = float64(in.Pix[i*3+c])
			}
		}
	} else {
		for y := range in.H {
			for x := range w {
				for c := range 3 {
					s := 0.0
					for k, v := range xw[x] {
						s += v * float64(in.Pix[(y*in.W+xmin[x]+k)*3+c])
					}
					mid[y*w+x][c] = math.Min(math.Max(math.Round(s), 0), 255)
				}
			}
		}
	}
	if h == in.H {
		return mid
	}
	out := make([][3]float64, w*h)
	for y := range h {
		for x := range w {
			for c := range 3 {
				s := 0.0
				for k, v := range yw[y] {
					s += v * mid[(ymin[y]+k)*w+x][c]
				}
				out[y*w+x][c] = s
			}
		}
	}
	return out
}

func randomRGB(r *rand.Rand, w, h int) *RGB {
	img := NewRGB(w, h)
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

func TestResizeMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][4]int{{37, 23, 16, 12}, {37, 23, 50, 31}, {37, 23, 60, 10}, {5, 7, 64, 3}, {100, 1, 7, 1}, {1, 1, 9, 4}, {17, 40, 17, 9}}
	for _, rs := range []Resample{Bilinear, Bicubic, Lanczos, Box, Hamming} {
		f := filters[rs]
		for _, s := range sizes {
			in := randomRGB(r, s[0], s[1])
			got, err := Resize(in, s[2], s[3], rs)
			if err != nil {
				t.Fatal(err)
			}
			want := pilResize64(in, s[2], s[3], f.fn, f.support)
			for i, px := range want {
				for c := range 3 {
					if d := math.Abs(float64(got.Pix[i*3+c]) - math.Min(math.Max(px[c], 0), 255)); d > 1.5 {
						t.Fatalf("resample %d %dx%d→%dx%d: pixel %d channel %d: %d, float64 %.3f", rs, s[0], s[1], s[2], s[3], i, c, got.Pix[i*3+c], px[c])
					}
				}
			}
		}
	}
}

func TestResizeRefuses(t *testing.T) {
	img := NewRGB(4, 4)
	for _, c := range []struct {
		w, h int
		r    Resample
		want string
	}{{0, 4, Bilinear, "resize to 0x4"}, {3, 3, Nearest, "resample 0"}, {3, 3, 9, "resample 9"}} {
		if _, err := Resize(img, c.w, c.h, c.r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resize(%d, %d, %d) = %v, want %q", c.w, c.h, c.r, err, c.want)
		}
	}
}

func encodePNG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeLimits(t *testing.T) {
	small := encodePNG(t, image.NewGray(image.Rect(0, 0, 30, 20)))
	// A PNG whose header claims 100000x100000 pixels: refused from the header,
	// before anything is allocated for it.
	bomb := append([]byte(nil), small...)
	binary.BigEndian.PutUint32(bomb[16:], 100000)
	binary.BigEndian.PutUint32(bomb[20:], 100000)
	for _, c := range []struct {
		name string
		data []byte
		lim  Limits
		is   error
		want string
	}{
		{"bytes", small, Limits{MaxBytes: 10}, ErrTooLarge, "bytes, the limit is 10"},
		{"pixels", small, Limits{MaxPixels: 599}, ErrTooLarge, "30x20 is 600 pixels, the limit is 599"},
		{"bomb", bomb, Limits{}, nil, "decode png header"}, // the CRC fails first; either way nothing is decoded
		{"text", []byte("hello, this is not an image"), Limits{}, ErrFormat, "unsupported image format"},
		{"empty", nil, Limits{}, ErrFormat, "unsupported image format"},
		{"truncated", small[:40], Limits{}, nil, "decode png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data, c.lim)
			if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("Decode = %v, want %q (%v)", err, c.want, c.is)
			}
		})
	}
	if _, err := Decode(small, Limits{MaxPixels: 600}); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

// withOrientation inserts an APP1 Exif segment with Orientation o (in the
// given byte order) after a JPEG's SOI.
func withOrientation(jpg []byte, o int, bo binary.ByteOrder) []byte {
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	} else {
		copy(tiff, "MM")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)
	bo.PutUint16(tiff[10:], 0x0112)
	bo.PutUint16(tiff[12:], 3)
	bo.PutUint32(tiff[14:], 1)
	bo.PutUint16(tiff[18:], uint16(o))
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte(nil), jpg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// TestEXIFOrientation checks each orientation on an image whose corners are
// told apart: after the transposition the corner PIL's exif_transpose puts
// top-left must be there.
func TestEXIFOrientation(t *testing.T) {
	const w, h = 32, 16
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	corner := map[string]color.RGBA{"tl": {255, 0, 0, 255}, "tr": {0, 255, 0, 255}, "bl": {0, 0, 255, 255}, "br": {255, 255, 255, 255}}
	for y := range h {
		for x := range w {
			k := map[bool]string{true: "t", false: "b"}[y < h/2] + map[bool]string{true: "l", false: "r"}[x < w/2]
			src.Set(x, y, corner[k])
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, src, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	// Which source corner ends up top-left, and whether width and height swap.
	for o, want := range map[int]struct {
		topLeft string
		swap    bool
	}{1: {"tl", false}, 2: {"tr", false}, 3: {"br", false}, 4: {"bl", false}, 5: {"tl", true}, 6: {"bl", true}, 7: {"br", true}, 8: {"tr", true}} {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			img, err := Decode(withOrientation(b.Bytes(), o, bo), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if (img.W == h) != want.swap {
				t.Fatalf("orientation %d: %dx%d", o, img.W, img.H)
			}
			c := corner[want.topLeft]
			got := img.Pix[:3]
			if abs(int(got[0])-int(c.R)) > 8 || abs(int(got[1])-int(c.G)) > 8 || abs(int(got[2])-int(c.B)) > 8 {
				t.Errorf("orientation %d (%v): top-left %v, want the %s corner %v", o, bo, got, want.topLeft, c)
			}
		}
	}
}

func TestParseProcessor(t *testing.T) {
	p, err := ParseProcessor(readTestdata(t, "gemma-3-4b-it.preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Processor{Type: "Gemma3ImageProcessor", Width: 896, Height: 896, Resample: Bilinear, DoResize: true,
		DoRescale: true, RescaleFactor: 0.00392156862745098, DoNormalize: true, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5}}
	if *p != want {
		t.Fatalf("gemma-3-4b-it: %+v, want %+v", *p, want)
	}
	for _, c := range []struct{ json, want string }{
		{`{"image_processor_type": "LlavaNextImageProcessor"}`, `image_processor_type "LlavaNextImageProcessor" is not supported`},
		{`{"image_processor_type": "Gemma3ImageProcessor", "do_pan_and_scan": true}`, "do_pan_and_scan is not supported"},
		{`{"image_processor_type": "Gemma3ImageProcessor", "size": {"shortest_edge": 224}}`, "want height and width"},
		{`{"image_processor_type": "Gemma3ImageProcessor", "size": {"height": 0, "width": 4}}`, "size 4x0"},
		{`{"image_processor_type": "Gemma3ImageProcessor", "resample": 0}`, "resample 0 is not supported"},
		{`{"image_processor_type": "Gemma3ImageProcessor", "image_std": [0.5, 0, 0.5]}`, "image_std"},
		{`{"image_processor_type": "Gemma3ImageProcessor", "image_mean": [0.5, 0.5]}`, "2 values, want 3"},
		{`{"image_processor_type": "Gemma3ImageProcessor", "do_resize": false}`, "do_resize false"},
		{`[1]`, "preprocessor_config.json"},
	} {
		if _, err := ParseProcessor([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.json, err, c.want)
		}
	}
	// A scalar mean and std, and the Fast class read as the slow one.
	p, err = ParseProcessor([]byte(`{"image_processor_type": "SiglipImageProcessorFast", "image_mean": 0.25, "image_std": 2}`))
	if err != nil || p.Mean != [3]float64{0.25, 0.25, 0.25} || p.Std != [3]float64{2, 2, 2} || p.Resample != Bicubic || p.Type != "SiglipImageProcessor" {
		t.Fatalf("siglip: %+v, %v", p, err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"rgb.png", "rgba.png", "palette.png", "rgb.gif", "lossless.webp", "lossy.webp", "lossy-alpha.webp", "exif6.jpg", "exif5.png", "exif7.webp", "transparent.gif"} {
		b, err := readFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, Limits{MaxPixels: 1 << 16})
		if err != nil {
			return
		}
		if img.W*img.H*3 != len(img.Pix) || img.W*img.H > 1<<16 {
			t.Fatalf("%dx%d with %d bytes", img.W, img.H, len(img.Pix))
		}
	})
}
