package vision

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
)

// pngOrientation reads the EXIF Orientation of a PNG's eXIf chunk, which
// PIL's exif_transpose honours as it does a JPEG's.
func pngOrientation(data []byte) int {
	for i := 8; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || i+12+n > len(data) {
			return 1
		}
		if string(data[i+4:i+8]) == "eXIf" {
			return exifOrientation(data[i+8 : i+8+n])
		}
		i += 12 + n
	}
	return 1
}

// webpOrientation reads the EXIF Orientation of a WebP's EXIF chunk.
func webpOrientation(data []byte) int {
	for i := 12; i+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || i+8+n > len(data) {
			return 1
		}
		if string(data[i:i+4]) == "EXIF" {
			return exifOrientation(data[i+8 : i+8+n])
		}
		i += 8 + n + n%2 // chunks are padded to an even size
	}
	return 1
}

// exifOrientation reads a TIFF block, with or without the "Exif\0\0" header
// PIL strips (Image.Exif.load).
func exifOrientation(b []byte) int {
	return tiffOrientation(bytes.TrimPrefix(b, []byte("Exif\x00\x00")))
}

// gifTransparentColor restores the colour of a GIF's first frame's
// transparent palette entry, which image/gif replaces with transparent
// black: PIL's convert("RGB") keeps the colour the file gives it.
func gifTransparentColor(data []byte, m *image.Paletted) {
	if len(data) < 13 {
		return
	}
	table := func(flags byte) int { return 3 << (flags&7 + 1) }
	var global []byte
	i := 13
	if data[10]&0x80 != 0 {
		n := table(data[10])
		if i+n > len(data) {
			return
		}
		global, i = data[i:i+n], i+n
	}
	trns := -1
	for i < len(data) {
		switch data[i] {
		case 0x21: // extension: label, then sub-blocks
			if i+2 > len(data) {
				return
			}
			label := data[i+1]
			i += 2
			for i < len(data) && data[i] != 0 {
				blk := data[i+1 : min(i+1+int(data[i]), len(data))]
				if label == 0xf9 && len(blk) >= 4 && blk[0]&1 != 0 {
					trns = int(blk[3])
				}
				i += 1 + int(data[i])
			}
			i++
		case 0x2c: // the first image descriptor
			if i+10 > len(data) {
				return
			}
			pal := global
			if flags := data[i+9]; flags&0x80 != 0 {
				n := table(flags)
				if i+10+n > len(data) {
					return
				}
				pal = data[i+10 : i+10+n]
			}
			if trns >= 0 && trns < len(m.Palette) && 3*trns+3 <= len(pal) {
				m.Palette[trns] = color.NRGBA{pal[3*trns], pal[3*trns+1], pal[3*trns+2], 0}
			}
			return
		default:
			return
		}
	}
}
