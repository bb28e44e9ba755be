package vision

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// pilCases is testdata/cases.json, written by testdata/gen.py from PIL and
// numpy running Gemma3ImageProcessor's steps.
type pilCases struct {
	Pillow string `json:"pillow"`
	Cases  []struct {
		Image      string          `json:"image"`
		Exact      bool            `json:"exact"` // not JPEG: Go decodes PIL's pixels
		Config     json.RawMessage `json:"config"`
		ConfigFile string          `json:"config_file"`
		Pixels     string          `json:"pixels"`
		SHA256     string          `json:"sha256"`
		Decoded    [2]int          `json:"decoded"` // width, height after EXIF orientation
		RGB        bool            `json:"rgb"`     // PIL's decoded pixels are in <image>.rgb
	} `json:"cases"`
}

func readFile(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b := readTestdata(t, name)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// jpegMean and jpegWorst are how far Go's JPEG decoder may land from
// libjpeg-turbo's, in levels of 255. Chroma is upsampled and converted as
// libjpeg-turbo does (ycc.go), so only the inverse DCT's rounding differs.
const (
	jpegMean  = 0.25
	jpegWorst = 3
)

// TestPIL checks decode, orientation, resize, rescale and normalise against
// PIL: bit for bit from PNG, GIF and WebP (lossy too), within jpegMean and
// jpegWorst from JPEG (whose pixel path is then checked from PIL's own
// decoded pixels).
func TestPIL(t *testing.T) {
	var pc pilCases
	if err := json.Unmarshal(readTestdata(t, "cases.json"), &pc); err != nil {
		t.Fatal(err)
	}
	for _, c := range pc.Cases {
		name := c.Image + " " + filepath.Ext(c.Pixels) + c.ConfigFile
		if c.Pixels != "" {
			name = c.Pixels
		}
		t.Run(name, func(t *testing.T) {
			cfg := c.Config
			if c.ConfigFile != "" {
				cfg = readTestdata(t, c.ConfigFile)
			}
			p, err := ParseProcessor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			img, err := Decode(readTestdata(t, c.Image), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c.SHA256 != "" {
				px, err := p.Pixels(img)
				if err != nil {
					t.Fatal(err)
				}
				b := make([]byte, 4*len(px))
				for i, v := range px {
					binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
				}
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != c.SHA256 {
					t.Fatalf("pixel_values (%d floats) differ from PIL's", len(px))
				}
				return
			}
			if img.W != c.Decoded[0] || img.H != c.Decoded[1] {
				t.Fatalf("decoded %dx%d, PIL %dx%d", img.W, img.H, c.Decoded[0], c.Decoded[1])
			}
			if !c.RGB {
				comparePhoto(t, p, img, readF32(t, c.Pixels))
				return
			}
			pil := &RGB{W: img.W, H: img.H, Pix: readTestdata(t, c.Image+".rgb")}
			worst, sum := 0, 0
			for i := range img.Pix {
				d := abs(int(img.Pix[i]) - int(pil.Pix[i]))
				worst, sum = max(worst, d), sum+d
			}
			mean := float64(sum) / float64(len(img.Pix))
			switch {
			case c.Exact && worst != 0:
				t.Fatalf("decoded pixels differ from PIL's by up to %d levels", worst)
			case !c.Exact && (mean > jpegMean || worst > jpegWorst):
				t.Fatalf("decoded pixels differ from PIL's by %.2f levels on average, up to %d (limits %g, %d)", mean, worst, jpegMean, jpegWorst)
			case !c.Exact:
				t.Logf("lossy decode: %.2f levels from PIL on average, up to %d", mean, worst)
				img = pil
			}
			px, err := p.Pixels(img)
			if err != nil {
				t.Fatal(err)
			}
			want := readF32(t, c.Pixels)
			if len(px) != len(want) {
				t.Fatalf("%d values, PIL %d", len(px), len(want))
			}
			for i := range px {
				if d := math.Abs(float64(px[i] - want[i])); d > 1e-5 {
					t.Fatalf("value %d (channel %d): %g, PIL %g", i, i/(p.Width*p.Height), px[i], want[i])
				}
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// photoTolerance bounds pixel_values computed from Go's decode of a JPEG
// against PIL's: the inverse DCT's level or two, averaged by the downscale's
// wide filter, in normalised units (2/255 per level with Gemma's mean and
// std of 0.5).
const photoTolerance = 2 * 2.0 / 255

// comparePhoto checks the whole path, decode included, of a lossy image
// whose decoded pixels are not kept.
func comparePhoto(t *testing.T, p *Processor, img *RGB, want []float32) {
	t.Helper()
	px, err := p.Pixels(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(px) != len(want) {
		t.Fatalf("%d values, PIL %d", len(px), len(want))
	}
	worst := 0.0
	for i := range px {
		worst = math.Max(worst, math.Abs(float64(px[i]-want[i])))
	}
	if worst > photoTolerance {
		t.Fatalf("pixel_values differ from PIL's by up to %g (> %g)", worst, photoTolerance)
	}
	t.Logf("pixel_values within %.4f of PIL's (%.2f levels)", worst, worst*255/2)
}
