package vision

import "fmt"

// Idefics3ImageProcessor (SmolVLM) does not resize to one fixed size: it
// scales the longest edge to size.longest_edge, rounds both edges up to
// multiples of max_image_size.longest_edge, cuts that into square tiles
// (row by row) and appends the whole image scaled to one tile, the "global"
// image. Each tile goes through the vision tower on its own.

// Tiling is one image as its processor hands it to the vision tower.
type Tiling struct {
	// Tiles are the pixel values (3, Height, Width) of each tile, row by row,
	// then of the global image; a processor that does not split gives one.
	Tiles [][]float32
	// Rows and Cols are the grid of the split tiles; 0, 0 when the image was
	// not split (its one tile is then the whole image).
	Rows, Cols int
	// Grid is the image's grid of patches (t, h, w) when its processor
	// patches it at its own size (Qwen2VLImageProcessor): its one tile is
	// then the patches, (t·h·w, 3·TemporalPatch·Patch·Patch).
	Grid [3]int
}

// maxImageSize is image_processing_idefics3's MAX_IMAGE_SIZE: the bound the
// longest edge is scaled below after scaling it to size.longest_edge.
const maxImageSize = 4096

// ProcessTiles decodes an encoded image and returns its tiles: one for a
// processor with a fixed size, the split tiles and the global image for
// Idefics3's.
func (p *Processor) ProcessTiles(data []byte, lim Limits) (Tiling, error) {
	img, err := Decode(data, lim)
	if err != nil {
		return Tiling{}, err
	}
	return p.Tiles(img)
}

// Tiles is Process on a decoded image.
func (p *Processor) Tiles(img *RGB) (Tiling, error) {
	if p.Merge > 0 {
		px, grid, err := p.Patches(img)
		return Tiling{Tiles: [][]float32{px}, Grid: grid}, err
	}
	if p.Tile == 0 {
		px, err := p.Pixels(img)
		return Tiling{Tiles: [][]float32{px}}, err
	}
	var err error
	if p.DoResize {
		h, w := scaleToLongest(img.H, img.W, p.LongestEdge)
		h, w = scaleBelow(h, w, maxImageSize)
		if img, err = Resize(img, w, h, p.Resample); err != nil {
			return Tiling{}, err
		}
	}
	// resize_for_vision_encoder: both edges up to multiples of the tile,
	// keeping the aspect ratio of the longer one.
	t := p.Tile
	h, w := img.H, img.W
	aspect := float64(w) / float64(h)
	if w >= h {
		w = ceilTo(w, t)
		h = ceilTo(int(float64(w)/aspect), t)
	} else {
		h = ceilTo(h, t)
		w = ceilTo(int(float64(h)*aspect), t)
	}
	if img, err = Resize(img, w, h, p.Resample); err != nil {
		return Tiling{}, err
	}
	var out Tiling
	if h > t || w > t {
		// split_image: tiles of ceil(edge/splits), which the rounding above
		// makes exactly t.
		out.Rows, out.Cols = (h+t-1)/t, (w+t-1)/t
		th, tw := (h+out.Rows-1)/out.Rows, (w+out.Cols-1)/out.Cols
		if th != t || tw != t {
			return Tiling{}, fmt.Errorf("image of %dx%d splits into tiles of %dx%d, not %dx%d", w, h, tw, th, t, t)
		}
		for r := range out.Rows {
			for c := range out.Cols {
				out.Tiles = append(out.Tiles, p.normalize(crop(img, c*t, r*t, t, t)))
			}
		}
		if img, err = Resize(img, t, t, p.Resample); err != nil {
			return Tiling{}, err
		}
	}
	out.Tiles = append(out.Tiles, p.normalize(img))
	return out, nil
}

// scaleToLongest is _resize_output_size_rescale_to_max_len: the longest
// edge becomes max (small images are scaled up), the other keeps the aspect
// ratio, truncated, then made even.
func scaleToLongest(h, w, edge int) (int, int) {
	aspect := float64(w) / float64(h)
	if w >= h {
		w = edge
		h = int(float64(w) / aspect)
		if h%2 != 0 {
			h++
		}
	} else {
		h = edge
		w = int(float64(h) * aspect)
		if w%2 != 0 {
			w++
		}
	}
	return max(h, 1), max(w, 1)
}

// scaleBelow is _resize_output_size_scale_below_upper_bound.
func scaleBelow(h, w, bound int) (int, int) {
	aspect := float64(w) / float64(h)
	if w >= h && w > bound {
		w = bound
		h = int(float64(w) / aspect)
	} else if h > w && h > bound {
		h = bound
		w = int(float64(h) * aspect)
	}
	return max(h, 1), max(w, 1)
}

func ceilTo(v, m int) int { return (v + m - 1) / m * m }

// crop is the w×h region of img at (x, y).
func crop(img *RGB, x, y, w, h int) *RGB {
	out := NewRGB(w, h)
	for r := range h {
		copy(out.Pix[r*w*3:(r+1)*w*3], img.Pix[((y+r)*img.W+x)*3:])
	}
	return out
}
