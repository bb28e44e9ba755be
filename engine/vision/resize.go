package vision

import (
	"fmt"
	"math"
)

// Resample is PIL's resampling filter number (PIL.Image.Resampling), the value
// of "resample" in preprocessor_config.json.
type Resample int

const (
	Nearest  Resample = 0
	Lanczos  Resample = 1
	Bilinear Resample = 2
	Bicubic  Resample = 3
	Box      Resample = 4
	Hamming  Resample = 5
)

// filter is one of PIL's convolution filters with its support at scale 1.
type filter struct {
	fn      func(x float64) float64
	support float64
}

// filters are libImaging/Resample.c's, written as it writes them.
var filters = map[Resample]filter{
	Box: {func(x float64) float64 {
		if x > -0.5 && x <= 0.5 {
			return 1
		}
		return 0
	}, 0.5},
	Bilinear: {func(x float64) float64 {
		x = math.Abs(x)
		if x < 1 {
			return 1 - x
		}
		return 0
	}, 1},
	Hamming: {func(x float64) float64 {
		x = math.Abs(x)
		if x == 0 {
			return 1
		}
		if x >= 1 {
			return 0
		}
		x *= math.Pi
		return math.Sin(x) / x * (0.54 + 0.46*math.Cos(x))
	}, 1},
	Bicubic: {func(x float64) float64 {
		const a = -0.5
		x = math.Abs(x)
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}, 2},
	Lanczos: {func(x float64) float64 {
		if -3 <= x && x < 3 {
			return sinc(x) * sinc(x/3)
		}
		return 0
	}, 3},
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// precisionBits is PIL's fixed-point precision for 8-bit images: 32 bits less
// 8 for the pixel and 2 for the overshoot of negative lobes.
const precisionBits = 32 - 8 - 2

// coeffs are the fixed-point weights of one axis: output i reads the inputs
// bounds[i].min .. bounds[i].min+len-1 with weights k[i*ksize:].
type coeffs struct {
	ksize  int
	min, n []int   // (out)
	k      []int32 // (out, ksize)
}

// precompute is Resample.c's precompute_coeffs for a whole axis (box 0..in)
// followed by normalize_coeffs_8bpc.
func precompute(in, out int, f filter) coeffs {
	scale := float64(in) / float64(out)
	filterscale := max(scale, 1) // downscaling widens the filter: PIL's antialiasing
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, min: make([]int, out), n: make([]int, out), k: make([]int32, out*ksize)}
	w := make([]float64, ksize)
	for xx := range out {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterscale
		xmin := max(int(center-support+0.5), 0) // C's (int) truncates toward zero
		xmax := min(int(center+support+0.5), in) - xmin
		ww := 0.0
		for x := range xmax {
			w[x] = f.fn((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := range xmax {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				c.k[xx*ksize+x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				c.k[xx*ksize+x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.min[xx], c.n[xx] = xmin, xmax
	}
	return c
}

// clip8 is Resample.c's clip8: the accumulator back to a byte.
func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// Resize is PIL's Image.resize((w, h), resample) of an RGB image: a horizontal
// then a vertical pass of fixed-point convolution, each skipped when that axis
// keeps its size.
func Resize(img *RGB, w, h int, r Resample) (*RGB, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize to %dx%d", w, h)
	}
	if w == img.W && h == img.H {
		return img.clone(), nil
	}
	f, ok := filters[r]
	if !ok {
		// NEAREST is an affine transform in PIL, not a convolution, and no
		// supported model's processor uses it.
		return nil, fmt.Errorf("resample %d is not supported (PIL's convolution filters are 1 to 5)", r)
	}
	out := img
	if w != img.W {
		out = horizontal(out, w, precompute(img.W, w, f))
	}
	if h != img.H {
		out = vertical(out, h, precompute(img.H, h, f))
	}
	return out, nil
}

func horizontal(in *RGB, w int, c coeffs) *RGB {
	out := NewRGB(w, in.H)
	for y := range in.H {
		row := in.Pix[y*in.W*3:]
		dst := out.Pix[y*w*3:]
		for xx := range w {
			k := c.k[xx*c.ksize:]
			s0, s1, s2 := int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1))
			for x := range c.n[xx] {
				p := row[(x+c.min[xx])*3:]
				s0 += int32(p[0]) * k[x]
				s1 += int32(p[1]) * k[x]
				s2 += int32(p[2]) * k[x]
			}
			dst[xx*3], dst[xx*3+1], dst[xx*3+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
	return out
}

func vertical(in *RGB, h int, c coeffs) *RGB {
	out := NewRGB(in.W, h)
	for yy := range h {
		k := c.k[yy*c.ksize:]
		dst := out.Pix[yy*in.W*3:]
		for xx := range in.W {
			s0, s1, s2 := int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1)), int32(1<<(precisionBits-1))
			for y := range c.n[yy] {
				p := in.Pix[((y+c.min[yy])*in.W+xx)*3:]
				s0 += int32(p[0]) * k[y]
				s1 += int32(p[1]) * k[y]
				s2 += int32(p[2]) * k[y]
			}
			dst[xx*3], dst[xx*3+1], dst[xx*3+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
	return out
}
