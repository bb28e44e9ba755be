package vision

import (
	"encoding/json"
	"fmt"
	"math"
)

// Processor is a model's image processor as preprocessor_config.json
// configures it: resize to a fixed size, rescale, normalise, channels first.
// It covers the processors whose pixel path is exactly that
// (Gemma3ImageProcessor without pan-and-scan, SiglipImageProcessor), and
// Idefics3ImageProcessor's tiles of a fixed size (tiles.go), and
// Qwen2VLImageProcessor's grid of patches (qwen.go).
type Processor struct {
	Type          string // image_processor_type
	Width, Height int    // size
	Resample      Resample
	DoResize      bool
	DoRescale     bool
	RescaleFactor float64
	DoNormalize   bool
	Mean, Std     [3]float64 // image_mean, image_std
	// Idefics3: size.longest_edge, max_image_size.longest_edge (the tile,
	// also Width and Height); Tile is 0 for the processors of one size.
	LongestEdge, Tile int
	// Qwen2VLImageProcessor (qwen.go): the bounds of the resized image's
	// area, and its patches; Merge is 0 for the other processors.
	MinPixels, MaxPixels        int
	Patch, TemporalPatch, Merge int
}

// defaults are each processor class's __init__ defaults, for the keys a
// preprocessor_config.json leaves out.
var defaults = map[string]Processor{
	"Gemma3ImageProcessor": {Width: 224, Height: 224, Resample: Bilinear, DoResize: true, DoRescale: true,
		RescaleFactor: 1.0 / 255, DoNormalize: true, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5}},
	"SiglipImageProcessor": {Width: 224, Height: 224, Resample: Bicubic, DoResize: true, DoRescale: true,
		RescaleFactor: 1.0 / 255, DoNormalize: true, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5}},
	"Idefics3ImageProcessor": {Width: 364, Height: 364, Resample: Lanczos, DoResize: true, DoRescale: true,
		RescaleFactor: 1.0 / 255, DoNormalize: true, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5},
		LongestEdge: 4 * 364, Tile: 364},
	"SmolVLMImageProcessor": {Width: 512, Height: 512, Resample: Lanczos, DoResize: true, DoRescale: true,
		RescaleFactor: 1.0 / 255, DoNormalize: true, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5},
		LongestEdge: 4 * 512, Tile: 512},
	"Qwen2VLImageProcessor": {Resample: Bicubic, DoResize: true, DoRescale: true, RescaleFactor: 1.0 / 255, DoNormalize: true,
		Mean: clipMean, Std: clipStd, MinPixels: 56 * 56, MaxPixels: 28 * 28 * 1280, Patch: 14, TemporalPatch: 2, Merge: 2},
}

// ParseProcessor reads preprocessor_config.json. The Fast variants of a class
// are read as the class itself: their torchvision resize is a different
// algorithm, and the slow processor's PIL pixels are the reference.
func ParseProcessor(b []byte) (*Processor, error) {
	var raw struct {
		pixelKeys
		Type         string          `json:"image_processor_type"`
		Size         *map[string]int `json:"size"`
		PanAndScan   *bool           `json:"do_pan_and_scan"`
		MaxImageSize *map[string]int `json:"max_image_size"`
		Split        *bool           `json:"do_image_splitting"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("preprocessor_config.json: %w", err)
	}
	typ := raw.Type
	if len(typ) > 4 && typ[len(typ)-4:] == "Fast" {
		typ = typ[:len(typ)-4]
	}
	p, ok := defaults[typ]
	if !ok {
		return nil, fmt.Errorf("preprocessor_config.json: image_processor_type %q is not supported", raw.Type)
	}
	p.Type = typ
	if p.Merge > 0 {
		return parseQwen(p, b)
	}
	if raw.PanAndScan != nil && *raw.PanAndScan {
		return nil, fmt.Errorf("preprocessor_config.json: do_pan_and_scan is not supported")
	}
	if p.Tile > 0 {
		if err := p.parseTiles(raw.Size, raw.MaxImageSize, raw.Split); err != nil {
			return nil, fmt.Errorf("preprocessor_config.json: %w", err)
		}
	} else if raw.Size != nil {
		h, hok := (*raw.Size)["height"]
		w, wok := (*raw.Size)["width"]
		if !hok || !wok || len(*raw.Size) != 2 {
			return nil, fmt.Errorf("preprocessor_config.json: size %v: want height and width", *raw.Size)
		}
		p.Width, p.Height = w, h
	}
	if p.Width <= 0 || p.Height <= 0 || p.Width > 8192 || p.Height > 8192 {
		return nil, fmt.Errorf("preprocessor_config.json: size %dx%d", p.Width, p.Height)
	}
	if err := raw.apply(&p); err != nil {
		return nil, err
	}
	if !p.DoResize {
		// Without a resize the tensor's size would follow the image, which no
		// fixed-size vision tower accepts.
		return nil, fmt.Errorf("preprocessor_config.json: do_resize false is not supported")
	}
	return &p, nil
}

// parseTiles reads the sizes of Idefics3's processor: size and
// max_image_size as {"longest_edge": n}, and do_image_splitting, of which
// only true is supported: unsplit images keep their aspect ratio, which the
// fixed-size tiles the vision tower reads here do not cover.
func (p *Processor) parseTiles(size, maxSize *map[string]int, split *bool) error {
	edge := func(m *map[string]int, name string, dst *int) error {
		if m == nil {
			return nil
		}
		v, ok := (*m)["longest_edge"]
		if !ok || len(*m) != 1 {
			return fmt.Errorf("%s %v: want longest_edge", name, *m)
		}
		*dst = v
		return nil
	}
	if err := edge(size, "size", &p.LongestEdge); err != nil {
		return err
	}
	if err := edge(maxSize, "max_image_size", &p.Tile); err != nil {
		return err
	}
	if split != nil && !*split {
		return fmt.Errorf("do_image_splitting false is not supported")
	}
	if p.Tile <= 0 || p.Tile > 4096 || p.LongestEdge <= 0 || p.LongestEdge > maxImageSize {
		return fmt.Errorf("size.longest_edge %d, max_image_size.longest_edge %d", p.LongestEdge, p.Tile)
	}
	p.Width, p.Height = p.Tile, p.Tile
	return nil
}

// triple reads a per-channel value given as one number or three.
func triple(raw json.RawMessage, def [3]float64) ([3]float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return [3]float64{one, one, one}, nil
	}
	var three []float64
	if err := json.Unmarshal(raw, &three); err != nil {
		return def, err
	}
	if len(three) != 3 {
		return def, fmt.Errorf("%d values, want 3 (RGB)", len(three))
	}
	return [3]float64(three), nil
}

// Pixels is the processor's pixel_values for one RGB image, (3, Height,
// Width), computed in numpy's precisions: the rescale in float64 then cast to
// float32 (image_transforms.rescale), the normalisation in float32 with the
// mean and std cast to float32 (image_transforms.normalize).
func (p *Processor) Pixels(img *RGB) ([]float32, error) {
	img, err := Resize(img, p.Width, p.Height, p.Resample)
	if err != nil {
		return nil, err
	}
	return p.normalize(img), nil
}

// normalize is the rescale and normalisation of Pixels, channels first.
func (p *Processor) normalize(img *RGB) []float32 {
	plane := img.W * img.H
	out := make([]float32, 3*plane)
	var mean, std [3]float32
	for c := range 3 {
		mean[c], std[c] = float32(p.Mean[c]), float32(p.Std[c])
	}
	for i := range plane {
		for c := range 3 {
			v := img.Pix[i*3+c]
			x := float32(v)
			if p.DoRescale {
				x = float32(float64(v) * p.RescaleFactor)
			}
			if p.DoNormalize {
				x = (x - mean[c]) / std[c]
			}
			out[c*plane+i] = x
		}
	}
	return out
}

// Process decodes an encoded image and returns its pixel_values.
func (p *Processor) Process(data []byte, lim Limits) ([]float32, error) {
	img, err := Decode(data, lim)
	if err != nil {
		return nil, err
	}
	return p.Pixels(img)
}

// pixelKeys are the keys every processor reads alike: resampling, rescale
// and normalisation.
type pixelKeys struct {
	Resample      *int            `json:"resample"`
	DoResize      *bool           `json:"do_resize"`
	DoRescale     *bool           `json:"do_rescale"`
	RescaleFactor *float64        `json:"rescale_factor"`
	DoNormalize   *bool           `json:"do_normalize"`
	Mean          json.RawMessage `json:"image_mean"`
	Std           json.RawMessage `json:"image_std"`
}

// apply sets the keys given over p's defaults and checks them.
func (k pixelKeys) apply(p *Processor) error {
	if k.Resample != nil {
		p.Resample = Resample(*k.Resample)
	}
	if _, ok := filters[p.Resample]; !ok {
		return fmt.Errorf("preprocessor_config.json: resample %d is not supported (PIL's convolution filters are 1 to 5)", p.Resample)
	}
	for _, f := range []struct {
		dst *bool
		src *bool
	}{{&p.DoResize, k.DoResize}, {&p.DoRescale, k.DoRescale}, {&p.DoNormalize, k.DoNormalize}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if k.RescaleFactor != nil {
		p.RescaleFactor = *k.RescaleFactor
	}
	var err error
	if p.Mean, err = triple(k.Mean, p.Mean); err != nil {
		return fmt.Errorf("preprocessor_config.json: image_mean: %w", err)
	}
	if p.Std, err = triple(k.Std, p.Std); err != nil {
		return fmt.Errorf("preprocessor_config.json: image_std: %w", err)
	}
	for _, s := range p.Std {
		if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("preprocessor_config.json: image_std %v", p.Std)
		}
	}
	return nil
}
