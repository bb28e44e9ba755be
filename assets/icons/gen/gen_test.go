//go:build !race

// Image drawing and PNG encoding on one goroutine, three to nine times slower
// under the race detector: make test-norace runs these without it.

package main

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedIconsAreCurrent keeps the committed files equal to what gen draws:
// after changing the glyphs, run `go generate ./assets/icons`.
func TestCommittedIconsAreCurrent(t *testing.T) {
	files, err := icons()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./assets/icons)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./assets/icons", name)
		}
	}
}

// TestICNSLayout walks the container the way macOS reads it.
func TestICNSLayout(t *testing.T) {
	b, err := appICNS()
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "icns" || int(binary.BigEndian.Uint32(b[4:8])) != len(b) {
		t.Fatalf("bad header %q %d (len %d)", b[:4], binary.BigEndian.Uint32(b[4:8]), len(b))
	}
	var seen []string
	for off := 8; off < len(b); {
		typ, n := string(b[off:off+4]), int(binary.BigEndian.Uint32(b[off+4:off+8]))
		if n < 8 || off+n > len(b) {
			t.Fatalf("element %s at %d: bad length %d", typ, off, n)
		}
		img, err := png.Decode(bytes.NewReader(b[off+8 : off+n]))
		if err != nil {
			t.Fatalf("element %s: %v", typ, err)
		}
		for _, want := range icnsTypes {
			if want.typ == typ && img.Bounds().Dx() != want.size {
				t.Errorf("element %s is %d px, want %d", typ, img.Bounds().Dx(), want.size)
			}
		}
		seen = append(seen, typ)
		off += n
	}
	if len(seen) != len(icnsTypes) {
		t.Fatalf("elements %v, want %d", seen, len(icnsTypes))
	}
}

func TestTemplateIsBlackAndAlpha(t *testing.T) {
	for _, st := range states {
		img := render(22, template(st))
		opaque := 0
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i+3] != 0 && (img.Pix[i]|img.Pix[i+1]|img.Pix[i+2]) != 0 {
				t.Fatalf("%s: a coloured pixel in a template", st)
			}
			if img.Pix[i+3] == 255 {
				opaque++
			}
		}
		if opaque < 40 {
			t.Errorf("%s: only %d opaque pixels: the glyph is missing", st, opaque)
		}
	}
}
