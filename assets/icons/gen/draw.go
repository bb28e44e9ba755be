package main

import (
	"image"
	"image/color"
	"math"
)

// The glyphs are drawn on a 22×22 design grid (the macOS menu-bar icon size in
// points) and rasterised at any pixel size, so the @2x and app icons are as sharp
// as the 1x ones instead of being resampled.
const grid = 22.0

// samples is the supersampling per pixel side: coverage is the share of
// samples*samples points inside a shape, which anti-aliases the edges.
const samples = 8

// shape reports whether a point of the design grid is inside it.
type shape func(x, y float64) bool

// roundRect is the filled rectangle (x0,y0)-(x1,y1) with corners of radius r.
func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		cx := math.Max(math.Max(x0+r-x, x-(x1-r)), 0)
		cy := math.Max(math.Max(y0+r-y, y-(y1-r)), 0)
		return x >= x0 && x <= x1 && y >= y0 && y <= y1 && cx*cx+cy*cy <= r*r
	}
}

// ring is the outline of a rounded rectangle, w wide, drawn inside its bounds.
func ring(x0, y0, x1, y1, r, w float64) shape {
	outer, inner := roundRect(x0, y0, x1, y1, r), roundRect(x0+w, y0+w, x1-w, y1-w, math.Max(r-w, 0))
	return func(x, y float64) bool { return outer(x, y) && !inner(x, y) }
}

// stroke is a line from (ax,ay) to (bx,by), w wide, with round caps.
func stroke(ax, ay, bx, by, w float64) shape {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	return func(x, y float64) bool {
		t := 0.0
		if l2 > 0 {
			t = math.Min(math.Max(((x-ax)*dx+(y-ay)*dy)/l2, 0), 1)
		}
		px, py := ax+t*dx-x, ay+t*dy-y
		return px*px+py*py <= w*w/4
	}
}

func union(ss ...shape) shape {
	return func(x, y float64) bool {
		for _, s := range ss {
			if s(x, y) {
				return true
			}
		}
		return false
	}
}

// layer is a shape painted in one colour; later layers cover earlier ones.
type layer struct {
	s shape
	c color.NRGBA
}

// render rasterises layers onto a size×size transparent image.
func render(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	scale := grid / float64(size)
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			img.SetNRGBA(px, py, pixel(px, py, scale, layers))
		}
	}
	return img
}

// pixel composites the layers' coverage of one pixel ("over", straight alpha).
func pixel(px, py int, scale float64, layers []layer) color.NRGBA {
	var r, g, b, a float64 // premultiplied, 0..1
	for _, l := range layers {
		cov := coverage(px, py, scale, l.s) * float64(l.c.A) / 255
		if cov == 0 {
			continue
		}
		r = float64(l.c.R)/255*cov + r*(1-cov)
		g = float64(l.c.G)/255*cov + g*(1-cov)
		b = float64(l.c.B)/255*cov + b*(1-cov)
		a = cov + a*(1-cov)
	}
	if a == 0 {
		return color.NRGBA{}
	}
	return color.NRGBA{R: byte8(r / a), G: byte8(g / a), B: byte8(b / a), A: byte8(a)}
}

// adaptiveFrom is the icon size from which a pixel whose corners and centre agree
// is taken as wholly inside or outside: there every feature of the glyph spans
// several pixels. Smaller icons are supersampled everywhere.
const adaptiveFrom = 128

func coverage(px, py int, scale float64, s shape) float64 {
	if grid/scale >= adaptiveFrom {
		x, y := float64(px)*scale, float64(py)*scale
		c := s(x+scale/2, y+scale/2)
		if c == s(x, y) && c == s(x+scale, y) && c == s(x, y+scale) && c == s(x+scale, y+scale) {
			if c {
				return 1
			}
			return 0
		}
	}
	in := 0
	for sy := 0; sy < samples; sy++ {
		for sx := 0; sx < samples; sx++ {
			x := (float64(px) + (float64(sx)+0.5)/samples) * scale
			y := (float64(py) + (float64(sy)+0.5)/samples) * scale
			if s(x, y) {
				in++
			}
		}
	}
	return float64(in) / (samples * samples)
}

func byte8(v float64) uint8 { return uint8(math.Round(math.Min(math.Max(v, 0), 1) * 255)) }
