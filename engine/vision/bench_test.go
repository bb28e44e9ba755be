package vision

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// BenchmarkProcessPhoto is a phone photo (4032x3024 JPEG, 4:2:0) through
// gemma-3-4b-it's processor: what one image in a chat request costs.
func BenchmarkProcessPhoto(b *testing.B) {
	benchPhoto(b, "gemma-3-4b-it.preprocessor_config.json")
}

// BenchmarkTilesPhoto is the same photo through SmolVLM-256M-Instruct's
// processor: scaled to 2048x1536 (Lanczos), then 2048x2048, cut into 16
// tiles of 512 and the global tile.
func BenchmarkTilesPhoto(b *testing.B) {
	benchPhoto(b, "SmolVLM-256M-Instruct.preprocessor_config.json")
}

func benchPhoto(b *testing.B, config string) {
	r := rand.New(rand.NewPCG(5, 6))
	src := image.NewRGBA(image.Rect(0, 0, 4032, 3024))
	for i := range src.Pix {
		src.Pix[i] = uint8(i/4%4032/16 + r.IntN(32))
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, src, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	cfg, err := readFile(config)
	if err != nil {
		b.Fatal(err)
	}
	p, err := ParseProcessor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(enc.Len()))
	for b.Loop() {
		if _, err := p.ProcessTiles(enc.Bytes(), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
