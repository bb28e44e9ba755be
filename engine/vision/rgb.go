package vision

import (
	"image"
	"image/color"
)

// RGB is an 8-bit RGB image, rows top to bottom, pixels interleaved: PIL's
// mode "RGB" and numpy's (H, W, 3) uint8 view of it.
type RGB struct {
	W, H int
	Pix  []uint8 // (H, W, 3)
}

// NewRGB is a black w×h image.
func NewRGB(w, h int) *RGB { return &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)} }

func (m *RGB) clone() *RGB {
	return &RGB{W: m.W, H: m.H, Pix: append([]uint8(nil), m.Pix...)}
}

// toRGB is PIL's convert("RGB") of a decoded image, which is what
// transformers' convert_to_rgb and load_image do: gray is replicated, a
// palette is looked up, and alpha is dropped (not composited: the colour
// under a transparent pixel is kept, as PIL keeps it).
func toRGB(src image.Image) *RGB {
	b := src.Bounds()
	out := NewRGB(b.Dx(), b.Dy())
	i := 0
	set := func(r, g, bl uint8) {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = r, g, bl
		i += 3
	}
	switch m := src.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := m.NRGBAAt(x, y)
				set(c.R, c.G, c.B)
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				v := m.GrayAt(x, y).Y
				set(v, v, v)
			}
		}
	case *image.Paletted:
		pal := make([][3]uint8, len(m.Palette))
		for j, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[j] = [3]uint8{n.R, n.G, n.B}
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				p := pal[m.ColorIndexAt(x, y)]
				set(p[0], p[1], p[2])
			}
		}
	default:
		// YCbCr, CMYK, RGBA (opaque as Go's decoders produce it), 16-bit
		// kinds (PIL keeps their high byte too): through the colour model.
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBA64Model.Convert(src.At(x, y)).(color.NRGBA64)
				set(uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
			}
		}
	}
	return out
}
