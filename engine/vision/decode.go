package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Limits bound what Decode accepts, so one request cannot make the process
// allocate gigabytes: the encoded bytes, and the decoded pixels (checked from
// the header, before decoding).
type Limits struct {
	MaxBytes  int64 // 0: DefaultLimits.MaxBytes
	MaxPixels int64 // width*height; 0: DefaultLimits.MaxPixels
}

// DefaultLimits are 20 MiB (OpenAI's limit per image) and PIL's own
// decompression-bomb threshold, Image.MAX_IMAGE_PIXELS.
var DefaultLimits = Limits{MaxBytes: 20 << 20, MaxPixels: 89478485}

// Errors Decode returns, for callers that map them to a client error.
var (
	ErrFormat   = errors.New("unsupported image format (want PNG, JPEG, GIF or WebP)")
	ErrTooLarge = errors.New("image too large")
)

// Format names a supported encoding, sniffed from the first bytes.
func Format(data []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png", true
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg", true
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif", true
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp", true
	}
	return "", false
}

// Decode is transformers' load_image of encoded bytes: decode (a GIF's first
// frame), apply the EXIF orientation of a JPEG, PNG or WebP
// (PIL.ImageOps.exif_transpose) and convert to RGB.
func Decode(data []byte, lim Limits) (*RGB, error) {
	if lim.MaxBytes == 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxPixels == 0 {
		lim.MaxPixels = DefaultLimits.MaxPixels
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	format, ok := Format(data)
	if !ok {
		return nil, ErrFormat
	}
	var decodeConfig func([]byte) (image.Config, error)
	var decode func([]byte) (image.Image, error)
	switch format {
	case "png":
		decodeConfig = func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case "jpeg":
		decodeConfig = func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case "gif":
		decodeConfig = func(b []byte) (image.Config, error) { return gif.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) } // the first frame
	case "webp":
		decodeConfig = func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }
	}
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("decode %s: empty image (%dx%d)", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d is %d pixels, the limit is %d", ErrTooLarge, cfg.Width, cfg.Height, px, lim.MaxPixels)
	}
	img, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	var rgb *RGB
	if m, ok := img.(*image.Paletted); ok && format == "gif" {
		gifTransparentColor(data, m)
	}
	if m, ok := img.(*image.NYCbCrA); ok {
		img = &m.YCbCr // alpha is dropped, as PIL's convert("RGB") drops it
	}
	if m, ok := img.(*image.YCbCr); ok && format == "jpeg" {
		rgb, _ = jpegRGB(m)
	} else if ok && format == "webp" {
		rgb, _ = webpRGB(m)
	}
	if rgb == nil {
		rgb = toRGB(img)
	}
	switch format {
	case "jpeg":
		rgb = orient(rgb, jpegOrientation(data))
	case "png":
		rgb = orient(rgb, pngOrientation(data))
	case "webp":
		rgb = orient(rgb, webpOrientation(data))
	}
	return rgb, nil
}
