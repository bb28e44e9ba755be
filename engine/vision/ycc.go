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
	at := func(x, y int) int32 { return int32(p[min(max(y, 0), dh-1)*stride+x]) }
	out := make([]uint8, w*h)
	put := func(x, y int, v int32) {
		if x < w && y < h {
			out[y*w+x] = uint8(v)
		}
	}
	for cy := range dh {
		for v := range vs {
			oy := cy*vs + v
			// colsum is the vertical blend of column x: 3/4 the nearer row,
			// 1/4 the next nearer (above for the upper output row).
			colsum := func(x int) int32 {
				if vs == 1 {
					return at(x, cy)
				}
				return 3*at(x, cy) + at(x, cy-1+2*v)
			}
			switch {
			case hs == 1: // 4:4:4
				for x := range dw {
					put(x, oy, at(x, cy))
				}
			case vs == 1: // h2v1
				if dw == 1 {
					put(0, oy, at(0, cy))
					put(1, oy, at(0, cy))
					continue
				}
				put(0, oy, at(0, cy))
				put(1, oy, (at(0, cy)*3+at(1, cy)+2)>>2)
				for x := 1; x < dw-1; x++ {
					c := at(x, cy) * 3
					put(2*x, oy, (c+at(x-1, cy)+1)>>2)
					put(2*x+1, oy, (c+at(x+1, cy)+2)>>2)
				}
				last := at(dw-1, cy)
				put(2*dw-2, oy, (last*3+at(dw-2, cy)+1)>>2)
				put(2*dw-1, oy, last)
			default: // h2v2
				if dw == 1 {
					put(0, oy, (colsum(0)*4+8)>>4)
					put(1, oy, (colsum(0)*4+7)>>4)
					continue
				}
				put(0, oy, (colsum(0)*4+8)>>4)
				put(1, oy, (colsum(0)*3+colsum(1)+7)>>4)
				for x := 1; x < dw-1; x++ {
					c := colsum(x) * 3
					put(2*x, oy, (c+colsum(x-1)+8)>>4)
					put(2*x+1, oy, (c+colsum(x+1)+7)>>4)
				}
				c := colsum(dw - 1)
				put(2*dw-2, oy, (c*3+colsum(dw-2)+8)>>4)
				put(2*dw-1, oy, (c*4+7)>>4)
			}
		}
	}
	return out
}
