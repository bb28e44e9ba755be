package vision

import (
	"encoding/json"
	"fmt"
	"math"
)

// Qwen2VLImageProcessor (Qwen2-VL, Qwen2.5-VL) keeps an image near its own
// size: smart_resize rounds both sides to multiples of patch_size·merge_size
// (28) with the area between min_pixels and max_pixels, then the image is
// resized (bicubic), rescaled and normalised (CLIP's mean and std), repeated
// over temporal_patch_size frames, and cut into patches listed block by
// block (each merge×merge block of patches row by row, the blocks row by
// row), each patch's values (channel, frame, y, x): the order the vision
// tower's Conv3d and its merger read.

// OpenAI CLIP's mean and std, Qwen2VLImageProcessor's defaults.
var (
	clipMean = [3]float64{0.48145466, 0.4578275, 0.40821073}
	clipStd  = [3]float64{0.26862954, 0.26130258, 0.27577711}
)

// parseQwen reads the keys of Qwen2VLImageProcessor over its defaults in p:
// size {shortest_edge, longest_edge} as the area bounds, min_pixels and
// max_pixels over them (the class's backward compatibility), the patch
// sizes, and the common keys.
func parseQwen(p Processor, b []byte) (*Processor, error) {
	var raw struct {
		Size          map[string]int `json:"size"`
		MinPixels     *int           `json:"min_pixels"`
		MaxPixels     *int           `json:"max_pixels"`
		Patch         *int           `json:"patch_size"`
		TemporalPatch *int           `json:"temporal_patch_size"`
		Merge         *int           `json:"merge_size"`
		pixelKeys
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("preprocessor_config.json: %w", err)
	}
	if raw.Size != nil {
		lo, lok := raw.Size["shortest_edge"]
		hi, hok := raw.Size["longest_edge"]
		if !lok || !hok {
			return nil, fmt.Errorf("preprocessor_config.json: size %v: want shortest_edge and longest_edge", raw.Size)
		}
		p.MinPixels, p.MaxPixels = lo, hi
	}
	for _, f := range []struct {
		dst *int
		src *int
	}{{&p.MinPixels, raw.MinPixels}, {&p.MaxPixels, raw.MaxPixels}, {&p.Patch, raw.Patch}, {&p.TemporalPatch, raw.TemporalPatch},
		{&p.Merge, raw.Merge}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := raw.apply(&p); err != nil {
		return nil, err
	}
	switch {
	case p.Patch <= 0 || p.Patch > 64 || p.TemporalPatch <= 0 || p.TemporalPatch > 8 || p.Merge <= 0 || p.Merge > 8:
		return nil, fmt.Errorf("preprocessor_config.json: patch_size %d, temporal_patch_size %d, merge_size %d", p.Patch, p.TemporalPatch, p.Merge)
	case p.MinPixels <= 0 || p.MaxPixels < p.MinPixels || int64(p.MaxPixels) > DefaultLimits.MaxPixels:
		return nil, fmt.Errorf("preprocessor_config.json: min_pixels %d, max_pixels %d", p.MinPixels, p.MaxPixels)
	}
	return &p, nil
}

// SmartResize is smart_resize with factor patch_size·merge_size: the
// height and width the image is resized to. Python's round() rounds half
// to even, as math.RoundToEven does.
func (p *Processor) SmartResize(height, width int) (int, int, error) {
	factor := p.Patch * p.Merge
	h, w := float64(height), float64(width)
	f := float64(factor)
	// transformers 4.49 to 4.52 also refused sides under the factor; later
	// versions let min_pixels scale such images up, as here.
	if height <= 0 || width <= 0 || math.Max(h, w)/math.Min(h, w) > 200 {
		return 0, 0, fmt.Errorf("image of %dx%d pixels: the aspect ratio must be at most 200", width, height)
	}
	hBar := int(math.RoundToEven(h/f)) * factor
	wBar := int(math.RoundToEven(w/f)) * factor
	if hBar*wBar > p.MaxPixels {
		beta := math.Sqrt(h * w / float64(p.MaxPixels))
		hBar = int(math.Floor(h/beta/f)) * factor
		wBar = int(math.Floor(w/beta/f)) * factor
	} else if hBar*wBar < p.MinPixels {
		beta := math.Sqrt(float64(p.MinPixels) / (h * w))
		hBar = int(math.Ceil(h*beta/f)) * factor
		wBar = int(math.Ceil(w*beta/f)) * factor
	}
	if hBar <= 0 || wBar <= 0 {
		// max_pixels below one factor² block floors a side to nothing.
		return 0, 0, fmt.Errorf("image of %dx%d pixels resizes to %dx%d under max_pixels %d", width, height, wBar, hBar, p.MaxPixels)
	}
	return hBar, wBar, nil
}

// Patches is Qwen2VLImageProcessor's _preprocess of one image: its
// pixel_values (t·h·w, 3·TemporalPatch·Patch·Patch) and image_grid_thw.
// The rescale and normalisation are Pixels' (numpy's precisions); the
// patches are a reordering of those values.
func (p *Processor) Patches(img *RGB) ([]float32, [3]int, error) {
	var grid [3]int
	h, w := img.H, img.W
	if p.DoResize {
		var err error
		if h, w, err = p.SmartResize(img.H, img.W); err != nil {
			return nil, grid, err
		}
		if img, err = Resize(img, w, h, p.Resample); err != nil {
			return nil, grid, err
		}
	}
	if f := p.Patch * p.Merge; h%f != 0 || w%f != 0 {
		return nil, grid, fmt.Errorf("image of %dx%d pixels is not cut into blocks of %d (do_resize is false)", w, h, f)
	}
	planes := p.normalize(img) // (3, h, w)
	P, T, M := p.Patch, p.TemporalPatch, p.Merge
	gh, gw := h/P, w/P
	grid = [3]int{1, gh, gw}
	per := 3 * T * P * P
	out := make([]float32, gh*gw*per)
	r := 0
	for by := range gh / M {
		for bx := range gw / M {
			for my := range M {
				for mx := range M {
					row := out[r*per : (r+1)*per]
					y0, x0 := (by*M+my)*P, (bx*M+mx)*P
					i := 0
					for c := range 3 {
						plane := planes[c*h*w : (c+1)*h*w]
						for range T { // the image repeated over the frames
							for py := range P {
								copy(row[i:i+P], plane[(y0+py)*w+x0:(y0+py)*w+x0+P])
								i += P
							}
						}
					}
					r++
				}
			}
		}
	}
	return out, grid, nil
}
