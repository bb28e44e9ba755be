package vision

import "image"

// webpRGB converts a lossy WebP's 4:2:0 YUV as libwebp, which PIL decodes
// with, does by default: the "fancy" upsampler of upsampling.c (each output
// pixel mixes its four nearest chroma samples 9:3:3:1, rows taken in pairs
// as io_dec.c's EmitFancyRGB takes them) and the fixed-point conversion of
// yuv.h. Go's x/image/webp returns the VP8 planes exactly; it is only this
// last step that it does differently.
func webpRGB(m *image.YCbCr) (*RGB, bool) {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Rect.Min != (image.Point{}) {
		return nil, false
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := NewRGB(w, h)
	row := func(p []uint8, cy int) []uint8 { return p[cy*m.CStride:] }
	ypix := func(y int) []uint8 { return m.Y[y*m.YStride:] }
	dst := func(y int) []uint8 { return out.Pix[y*w*3:] }
	// The first row mirrors its chroma row; then rows (2k-1, 2k) between
	// chroma rows k-1 and k; an even height ends on a row of its own.
	webpPair(ypix(0), nil, row(m.Cb, 0), row(m.Cr, 0), row(m.Cb, 0), row(m.Cr, 0), dst(0), nil, w)
	k := 1
	for ; 2*k < h; k++ {
		webpPair(ypix(2*k-1), ypix(2*k), row(m.Cb, k-1), row(m.Cr, k-1), row(m.Cb, k), row(m.Cr, k), dst(2*k-1), dst(2*k), w)
	}
	if h%2 == 0 {
		last := h/2 - 1
		webpPair(ypix(h-1), nil, row(m.Cb, last), row(m.Cr, last), row(m.Cb, last), row(m.Cr, last), dst(h-1), nil, w)
	}
	return out, true
}

// webpPair is upsampling.c's UpsampleRgbLinePair: the top output row leans
// on the top chroma row (tu, tv), the bottom one on the current (cu, cv).
func webpPair(topY, botY, tu, tv, cu, cv, topDst, botDst []uint8, n int) {
	type uv struct{ u, v int32 }
	at := func(u, v []uint8, x int) uv { return uv{int32(u[x]), int32(v[x])} }
	mix := func(a, b uv, f func(a, b int32) int32) uv { return uv{f(a.u, b.u), f(a.v, b.v)} }
	tl, l := at(tu, tv, 0), at(cu, cv, 0)
	edge := func(near, far uv) uv { return mix(near, far, func(a, b int32) int32 { return (3*a + b + 2) >> 2 }) }
	webpPixel(topDst, 0, topY[0], edge(tl, l))
	if botY != nil {
		webpPixel(botDst, 0, botY[0], edge(l, tl))
	}
	for x := 1; x <= (n-1)>>1; x++ {
		t, c := at(tu, tv, x), at(cu, cv, x)
		var d12, d03 uv
		for _, ch := range []struct {
			d12, d03    *int32
			tl, t, l, c int32
		}{{&d12.u, &d03.u, tl.u, t.u, l.u, c.u}, {&d12.v, &d03.v, tl.v, t.v, l.v, c.v}} {
			avg := ch.tl + ch.t + ch.l + ch.c + 8
			*ch.d12 = (avg + 2*(ch.t+ch.l)) >> 3
			*ch.d03 = (avg + 2*(ch.tl+ch.c)) >> 3
		}
		half := func(a, b int32) int32 { return (a + b) >> 1 }
		webpPixel(topDst, 2*x-1, topY[2*x-1], mix(d12, tl, half))
		webpPixel(topDst, 2*x, topY[2*x], mix(d03, t, half))
		if botY != nil {
			webpPixel(botDst, 2*x-1, botY[2*x-1], mix(d03, l, half))
			webpPixel(botDst, 2*x, botY[2*x], mix(d12, c, half))
		}
		tl, l = t, c
	}
	if n%2 == 0 {
		webpPixel(topDst, n-1, topY[n-1], edge(tl, l))
		if botY != nil {
			webpPixel(botDst, n-1, botY[n-1], edge(l, tl))
		}
	}
}

// webpPixel is yuv.h's VP8YuvToRgb.
func webpPixel(dst []uint8, x int, y uint8, c struct{ u, v int32 }) {
	mulHi := func(v, coeff int32) int32 { return (v * coeff) >> 8 }
	clip := func(v int32) uint8 {
		const fix2, mask2 = 6, (256 << 6) - 1
		if v&^mask2 == 0 {
			return uint8(v >> fix2)
		}
		if v < 0 {
			return 0
		}
		return 255
	}
	yy := mulHi(int32(y), 19077)
	dst[3*x] = clip(yy + mulHi(c.v, 26149) - 14234)
	dst[3*x+1] = clip(yy - mulHi(c.u, 6419) - mulHi(c.v, 13320) + 8708)
	dst[3*x+2] = clip(yy + mulHi(c.u, 33050) - 17685)
}
