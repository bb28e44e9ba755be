package icons

import (
	"bytes"
	"image/png"
	"testing"
)

func TestTrayIcons(t *testing.T) {
	for _, st := range States {
		for _, tc := range []struct {
			template bool
			size     int
		}{{true, 44}, {false, 44}} {
			t.Run(st, func(t *testing.T) {
				b, err := Tray(st, tc.template)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if r := img.Bounds(); r.Dx() != tc.size || r.Dy() != tc.size {
					t.Fatalf("%v: size %v, want %d px", tc.template, r, tc.size)
				}
				if !tc.template {
					return
				}
				// A template image must be black: only its alpha may vary.
				for y := 0; y < tc.size; y++ {
					for x := 0; x < tc.size; x++ {
						r, g, b, a := img.At(x, y).RGBA()
						if a != 0 && (r|g|b) != 0 {
							t.Fatalf("template pixel (%d,%d) is not black: %d %d %d", x, y, r, g, b)
						}
					}
				}
			})
		}
	}
}

func TestTrayUnknownState(t *testing.T) {
	if _, err := Tray("nope", true); err == nil {
		t.Fatal("an unknown state must be an error")
	}
}
