package vision

import "image"

// libjpeg's fixed-point YCbCr → RGB (jdcolor.c build_ycc_rgb_table), which
// rounds differently from Go's color.YCbCrToRGB.
var cr2r, cb2b, cr2g, cb2g [256]int32

func init() {
	const scaleBits, half = 16, 1 << 15
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		cr2r[i] = (fix(1.40200)*x + half) >> scaleBits
		cb2b[i] = (fix(1.77200)*x + half) >> scaleBits
		cr2g[i] = -fix(0.71414) * x
		cb2g[i] = -fix(0.34414)*x + half
	}
}

func clamp8(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

// jpegRGB converts a baseline JPEG's YCbCr as libjpeg-turbo, which PIL
// decodes with, does by default: 4:2:0 and 4:2:2 chroma is upsampled with
// its "fancy" triangle filter (jdsample.c h2v2_fancy_upsample and
// h2v1_fancy_upsample) rather than replicated as Go's image/jpeg does, then
// converted with jdcolor.c's tables. Other subsamplings return false.
func jpegRGB(m *image.YCbCr) (*RGB, bool) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	var hs, vs int // chroma subsampling factors
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		hs, vs = 2, 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	default:
		return nil, false
	}
	cb := upsample(m.Cb, m.CStride, (w+hs-1)/hs, (h+vs-1)/vs, hs, vs, w, h)
	cr := upsample(m.Cr, m.CStride, (w+hs-1)/hs, (h+vs-1)/vs, hs, vs, w, h)
	out := NewRGB(w, h)
	for y := range h {
		for x := range w {
			yy := int32(m.Y[y*m.YStride+x])
			c := y*w + x
			u, v := cb[c], cr[c]
			out.Pix[c*3] = clamp8(yy + cr2r[v])
			out.Pix[c*3+1] = clamp8(yy + (cb2g[u]+cr2g[v])>>16)
			out.Pix[c*3+2] = clamp8(yy + cb2b[u])
		}
	}
	return out, true
}

// upsample brings a (dh, dw) chroma plane to (h, w) with libjpeg's fancy
// upsampling. Rows above the first and below the last repeat the edge row,
// as libjpeg's context rows do.
func upsample(p []uint8, stride, dw, dh, hs, vs, w, h int) []uint8 {
	out := make([]uint8, w*h)
	row := func(cy int) []uint8 { cy = min(max(cy, 0), dh-1); return p[cy*stride : cy*stride+dw] }
	// cs is one output row's column sums: for h2v2, 3/4 the nearer chroma
	// row plus 1/4 the next nearer (above for the upper output row), in
	// units of 1/4; for h2v1 and 4:4:4 the chroma row itself.
	cs := make([]int32, dw+2)
	for oy := range h {
		cy, v := oy/vs, oy%vs
		near := row(cy)
		if vs == 2 {
			far := row(cy - 1 + 2*v)
			for x := range dw {
				cs[x] = 3*int32(near[x]) + int32(far[x])
			}
		} else {
			for x := range dw {
				cs[x] = int32(near[x])
			}
		}
		dst := out[oy*w : (oy+1)*w]
		if hs == 1 {
			for x := range w {
				dst[x] = uint8(cs[x])
			}
			continue
		}
		// Each chroma column c gives output columns 2c (leaning left) and
		// 2c+1 (leaning right); the edges use the column itself for the
		// missing neighbour, weighted as libjpeg's special cases do.
		put := func(x int, v int32) {
			if x < w {
				dst[x] = uint8(v)
			}
		}
		for c := range dw {
			left, right := cs[max(c-1, 0)], cs[min(c+1, dw-1)]
			if vs == 2 { // h2v2: units of 1/16, biases 8 and 7
				if c == 0 {
					put(0, (cs[0]*4+8)>>4)
				} else {
					put(2*c, (cs[c]*3+left+8)>>4)
				}
				if c == dw-1 {
					put(2*c+1, (cs[c]*4+7)>>4)
				} else {
					put(2*c+1, (cs[c]*3+right+7)>>4)
				}
			} else { // h2v1: units of 1/4, biases 1 and 2
				if c == 0 {
					put(0, cs[0])
				} else {
					put(2*c, (cs[c]*3+left+1)>>2)
				}
				if c == dw-1 {
					put(2*c+1, cs[c])
				} else {
					put(2*c+1, (cs[c]*3+right+2)>>2)
				}
			}
		}
	}
	return out
}
