package model

import (
	"context"
	"fmt"
)

// Vision-language models (Gemma 3's ConditionalGeneration checkpoints) read
// images as well as tokens. A vision tower turns an image's pixel values into
// a run of embeddings of the text model's width, which replace the embeddings
// of the placeholder tokens the prompt holds for the image; the text model
// then runs as usual, except that the tokens of one image attend to each other
// both ways. The tower is written once against VisionOps, like the text
// model against Ops; executors that implement VisionOps implement Imager on
// their sequences, the others refuse images.

// VisionOps are the operations of vision towers on top of EncoderOps. A
// tower's values are rows of patches, not tokens of the sequence: its
// attention uses no KV cache.
type VisionOps interface {
	EncoderOps
	// Input is data (rows, cols) row-major as a value: an image's patches.
	Input(data []float32, rows, cols int) Value
	// Table is the whole of w (out, in) as a value: a learned table of
	// position embeddings, one row per patch.
	Table(w *Linear) Value
	// SelfAttention is the attention of the rows of q (rows, heads*headDim)
	// over the keys and values of every row of k and v, each row seeing every
	// other; a.Bidirectional and a.Window are ignored.
	SelfAttention(q, k, v Value, a *Attention) Value
	// Pool averages each k×k block of the side×side grid that x's rows form
	// (row by row), giving ((side/k)², cols) rows in the same order.
	Pool(x Value, side, k int) Value
	// Shuffle is Idefics3's pixel shuffle: each k×k block of the side×side
	// grid that x's rows form becomes one row of the block's rows
	// concatenated row by row, giving ((side/k)², k²·cols) rows in the same
	// order.
	Shuffle(x Value, side, k int) Value

	// The operations below are those of towers that read an image at its
	// own size (Qwen2-VL, Qwen2.5-VL: ImageSpec.Merge > 0).

	// Grid is the grid of patches (t, h, w) of the image the tower is
	// running, as ImageGridEmbeds was given it; zero for a tower of a fixed
	// size. A tower's positions and windows follow from it, as Embed's rows
	// follow from the batch's tokens.
	Grid() [3]int
	// Rotate rotates each head of each row of x (rows, heads*headDim) in the
	// rotate_half pairing by the row's own angles: (x[j], x[j+headDim/2]) by
	// angles[row*headDim/2+j]. It may overwrite x.
	Rotate(x Value, headDim int, angles []float64) Value
	// BlockAttention is SelfAttention within blocks of rows: bounds (0, ...,
	// rows), increasing, cut the rows into blocks (transformers' cu_seqlens),
	// and a row sees the rows of its own block only.
	BlockAttention(q, k, v Value, a *Attention, bounds []int) Value
	// Permute gives the rows of x in a new order: row i of the result is row
	// order[i] of x.
	Permute(x Value, order []int) Value
	// Group makes each n consecutive rows of x one row of their values in
	// order: (rows/n, n·cols).
	Group(x Value, n int) Value
}

// QuickGELU is x·sigmoid(1.702·x), the activation of Qwen2-VL's (and
// CLIP's) vision MLP; its value stays clear of the other activations'.
const QuickGELU Activation = 32

// Vision is implemented by the Definitions of models with a vision tower.
// An executor runs one image as
//
//	x := VisionEmbed(o, pixels); for l := range VisionLayers() { x = VisionLayer(o, l, x) }; VisionHead(o, x)
type Vision interface {
	// Image describes the images the tower reads and where they go in a prompt.
	Image() ImageSpec
	VisionLayers() int
	// VisionEmbed turns pixel values (channels, size, size), or a grid's
	// patches (ImageSpec.Merge > 0), into the tower's input rows (patches,
	// width).
	VisionEmbed(o VisionOps, pixels []float32) Value
	VisionLayer(o VisionOps, l int, x Value) Value
	// VisionHead maps the last layer's rows to the image's embeddings
	// (Tokens, hidden of the text model).
	VisionHead(o VisionOps, x Value) Value
}

// ImageSpec is what a prompt needs to know of a model's images.
type ImageSpec struct {
	Size     int   // pixel values are (Channels, Size, Size)
	Channels int   // 3
	Tokens   int   // embeddings per image: the run of placeholder tokens
	Token    int32 // the placeholder token (Gemma 3: image_token_index)
	// Begin and End are the tokens around an image's run of placeholders
	// (Gemma 3: boi_token_index, eoi_token_index); -1: none.
	Begin, End int32
	// Causal: an image's tokens attend to each other as text does, each to
	// those before it (Idefics3); otherwise both ways (Gemma 3).
	Causal bool
	// Merge is set (Size is 0) for a tower that reads each image at its own
	// size (Qwen2-VL, Qwen2.5-VL): an image is a grid (t, h, w) of patches
	// of TemporalPatch frames of Patch×Patch pixels, given to ImageGridEmbeds
	// as (t·h·w, Channels·TemporalPatch·Patch·Patch) values in its image
	// processor's order, and each Merge×Merge block of patches becomes one
	// embedding: t·h·w/Merge² of them, a number that varies with the image.
	Merge                int
	Patch, TemporalPatch int
}

// GridTokens is the number of embeddings of an image of grid (t, h, w)
// patches on a tower of spec's Merge.
func (spec ImageSpec) GridTokens(grid [3]int) int {
	if spec.Merge <= 0 {
		return 0
	}
	return grid[0] * grid[1] * grid[2] / (spec.Merge * spec.Merge)
}

// CheckGrid reports an image grid a tower of dynamic size cannot read, and
// pixel values that are not its patches.
func (spec ImageSpec) CheckGrid(grid [3]int, values int) error {
	m := spec.Merge
	switch {
	case m <= 0:
		return fmt.Errorf("the vision tower reads images of %dx%d pixels, not a grid of patches", spec.Size, spec.Size)
	case grid[0] <= 0 || grid[1] <= 0 || grid[2] <= 0 || grid[1]%m != 0 || grid[2]%m != 0 || grid[0] > 1<<10 || grid[1] > 1<<12 || grid[2] > 1<<12:
		return fmt.Errorf("image grid %v: want positive sides, the spatial ones multiples of %d", grid, m)
	}
	if want := grid[0] * grid[1] * grid[2] * spec.Channels * spec.TemporalPatch * spec.Patch * spec.Patch; values != want {
		return fmt.Errorf("image grid %v: %d pixel values, want %d", grid, values, want)
	}
	return nil
}

// ImageSpan places one image's embeddings in a batch of tokens: the rows
// At..At+n-1 of the tokens passed, n = len(Embeds)/hidden, whose embeddings
// Embeds (n, hidden) replace, and which attend to each other both ways
// unless the model's ImageSpec is Causal.
type ImageSpan struct {
	At     int
	Embeds []float32
	// Grid is the image's (temporal, height, width) grid of embeddings,
	// t·h·w = n, for the models whose rotary positions follow it
	// (MRoPE); others leave it zero and ignore it.
	Grid [3]int
}

// Imager is implemented by the sequences of executors that run vision towers.
type Imager interface {
	// ImageEmbeds runs the model's vision tower on pixels (Channels, Size,
	// Size) and returns the image's embeddings (Tokens, hidden). The
	// sequence's cache is left as it was.
	ImageEmbeds(ctx context.Context, pixels []float32) ([]float32, error)
	// ForwardImages is Forward with images: the spans, in order and apart,
	// each within tokens, replace their tokens' embeddings. The tokens of a
	// span must all be passed in the same call.
	// An image of several tiles (Idefics3) is one span per tile.
	ForwardImages(ctx context.Context, tokens []int32, spans []ImageSpan) ([]float32, error)
	// ImageGridEmbeds is ImageEmbeds for a tower that reads each image at
	// its own size (ImageSpec.Merge > 0): pixels are the patches of an image
	// of grid (t, h, w) as ImageSpec describes, the embeddings
	// (ImageSpec.GridTokens(grid), hidden).
	ImageGridEmbeds(ctx context.Context, pixels []float32, grid [3]int) ([]float32, error)
}
