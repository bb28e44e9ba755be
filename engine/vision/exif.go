package vision

import "encoding/binary"

// jpegOrientation is the EXIF Orientation (tag 0x0112 of IFD0) of a JPEG's
// APP1 "Exif" segment, 1 (as stored) when there is none or it cannot be read:
// a damaged EXIF block must not make a viewable image fail.
func jpegOrientation(data []byte) int {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 1
		}
		marker := data[i+1]
		if marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7) {
			i += 2 // markers without a length
			continue
		}
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image: no EXIF before the data
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads Orientation from a TIFF header's first IFD.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	entries := int(bo.Uint16(t[off:]))
	for e := range entries {
		p := off + 2 + 12*e
		if p+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[p:]) != 0x0112 {
			continue
		}
		if typ := bo.Uint16(t[p+2:]); typ != 3 { // SHORT
			return 1
		}
		if v := int(bo.Uint16(t[p+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// orient is PIL.ImageOps.exif_transpose for orientation o: the transposition
// that shows the image upright. src(x, y) names the source pixel of output
// (x, y) for each orientation, on the source's width w and height h.
func orient(in *RGB, o int) *RGB {
	w, h := in.W, in.H
	var ow, oh int
	var src func(x, y int) (int, int)
	switch o {
	case 2: // FLIP_LEFT_RIGHT
		ow, oh, src = w, h, func(x, y int) (int, int) { return w - 1 - x, y }
	case 3: // ROTATE_180
		ow, oh, src = w, h, func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4: // FLIP_TOP_BOTTOM
		ow, oh, src = w, h, func(x, y int) (int, int) { return x, h - 1 - y }
	case 5: // TRANSPOSE
		ow, oh, src = h, w, func(x, y int) (int, int) { return y, x }
	case 6: // ROTATE_270 (a quarter turn clockwise)
		ow, oh, src = h, w, func(x, y int) (int, int) { return y, h - 1 - x }
	case 7: // TRANSVERSE
		ow, oh, src = h, w, func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8: // ROTATE_90 (a quarter turn counter-clockwise)
		ow, oh, src = h, w, func(x, y int) (int, int) { return w - 1 - y, x }
	default:
		return in
	}
	out := NewRGB(ow, oh)
	for y := range oh {
		for x := range ow {
			sx, sy := src(x, y)
			copy(out.Pix[(y*ow+x)*3:(y*ow+x)*3+3], in.Pix[(sy*w+sx)*3:])
		}
	}
	return out
}
