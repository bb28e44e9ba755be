package engine

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// Images of models whose vision tower reads each image at its own size
// (Qwen2-VL, Qwen2.5-VL): the processor gives a grid of patches per image,
// and the image's run of placeholders is as long as the grid's merged
// blocks.

// maxGridPixels bounds the area an image is resized to, below a
// checkpoint's max_pixels when that is larger (Qwen2.5-VL's say 12845056,
// 16384 embeddings an image): transformers' own default, 28·28·1280 (1280
// embeddings, 5120 patches), which keeps the tower's full-attention blocks,
// quadratic in the patches, to a few hundred megabytes.
const maxGridPixels = 28 * 28 * 1280

// checkGridProcessor checks that the image processor patches images as the
// vision tower reads them, and bounds its max_pixels.
func checkGridProcessor(in *visionInput, log *slog.Logger) error {
	p, s := in.proc, in.spec
	if p.Merge == 0 {
		return fmt.Errorf("preprocessor_config.json's %s resizes to %dx%d, the vision tower reads a grid of patches", p.Type, p.Width, p.Height)
	}
	if p.Merge != s.Merge || p.Patch != s.Patch || p.TemporalPatch != s.TemporalPatch {
		return fmt.Errorf("preprocessor_config.json patches %d pixels in %d frames merged by %d, the vision tower reads %d in %d merged by %d",
			p.Patch, p.TemporalPatch, p.Merge, s.Patch, s.TemporalPatch, s.Merge)
	}
	if p.MaxPixels > maxGridPixels {
		log.Info("images are resized below the engine's bound rather than preprocessor_config.json's max_pixels",
			"max_pixels", p.MaxPixels, "bound", maxGridPixels)
		p.MaxPixels = max(maxGridPixels, p.MinPixels)
	}
	return nil
}

// promptImage is one tile of an image as the prompt carries it: a grid's
// patches are told apart by the grid as well as by their values.
func (v *visionInput) promptImage(px []float32, grid [3]int) promptImage {
	tokens := v.spec.Tokens
	if grid[0] != 0 {
		tokens = v.spec.GridTokens(grid)
	}
	return promptImage{pixels: px, grid: grid, hash: pixelHash(grid, px), tokens: tokens}
}

// encodeGrid tokenizes a rendered prompt as Qwen2_5_VLProcessor does: each
// image's marker becomes <|vision_start|>, one <|image_pad|> per merged
// block of its grid, <|vision_end|> (the chat template writes the three
// tokens, the processor repeats the pad), the text on each side tokenized
// on its own as around any special token.
func (p *promptImages) encodeGrid(tok *tokenizer.Tokenizer, spec model.ImageSpec, segs []tokenizer.Segment) []int32 {
	var ids []int32
	var run []tokenizer.Segment
	for _, s := range segs {
		text := s.Text
		for {
			loc := p.marker.FindStringSubmatchIndex(text)
			if loc == nil {
				break
			}
			run = append(run, tokenizer.Segment{Text: text[:loc[0]], ParseSpecial: s.ParseSpecial})
			ids = append(ids, tok.EncodeSegments(run, false)...)
			run = run[:0]
			n := 0
			if k, err := strconv.Atoi(text[loc[2]:loc[3]]); err == nil && k < len(p.images) && len(p.images[k].tiles) == 1 {
				n = p.images[k].tiles[0].tokens
			}
			if spec.Begin >= 0 {
				ids = append(ids, spec.Begin)
			}
			for range n {
				ids = append(ids, spec.Token)
			}
			if spec.End >= 0 {
				ids = append(ids, spec.End)
			}
			text = text[loc[1]:]
		}
		run = append(run, tokenizer.Segment{Text: text, ParseSpecial: s.ParseSpecial})
	}
	return append(ids, tok.EncodeSegments(run, false)...)
}
