package hfref_test

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestMRoPEPositions checks the executors' positions (model.MRoPEPositions)
// against the oracle's get_rope_index on prompts with images of several
// shapes, whole and cut in two runs the way a cache resumes them.
func TestMRoPEPositions(t *testing.T) {
	config := map[string]any{"hidden_size": 64.0, "num_attention_heads": 4.0, "image_token_id": float64(modeltest.Qwen2VLImage),
		"vision_start_token_id": float64(modeltest.Qwen2VLStart),
		"rope_scaling":          map[string]any{"type": "mrope", "mrope_section": []any{2.0, 3.0, 3.0}}}
	const hidden = 2
	for _, grids := range [][][3]int{
		{{1, 4, 6}, {1, 6, 2}},
		{{1, 2, 2}},
		{{1, 8, 4}, {1, 2, 2}, {1, 4, 4}},
	} {
		var images []qwenImage
		text := [][]int{{1, 45}}
		for k, g := range grids {
			im := qwenImage{grid: g}
			im.embeds = make([]float32, im.tokens()*hidden)
			images = append(images, im)
			text = append(text, []int{7, 88, 19}[:1+k%3])
		}
		ids := qwenPrompt(images, text...)
		want, delta, err := hfref.Qwen2VLRopeIndex(config, ids, grids)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{len(ids), len(text[0]) + 3 + images[0].tokens()} {
			got := make([][3]int, len(ids))
			next, _, err := model.MRoPEPositions(got[:cut], 0, qwenSpans(ids[:cut], images, 0), hidden)
			if err == nil && cut < len(ids) {
				_, _, err = model.MRoPEPositions(got[cut:], next, qwenSpans(ids, images, cut), hidden)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range ids {
				if w := [3]int{want[0][i], want[1][i], want[2][i]}; got[i] != w {
					t.Fatalf("grids %v, cut at %d: token %d at %v, get_rope_index %v", grids, cut, i, got[i], w)
				}
			}
			if cut == len(ids) && next-len(ids) != delta {
				t.Errorf("grids %v: delta %d, get_rope_index %d", grids, next-len(ids), delta)
			}
		}
	}
}

// qwenImage is one image of a test prompt: image_grid_thw in patches (the
// spatial merge of 2 makes t·h·w/4 embeddings) and its embeddings.
type qwenImage struct {
	grid   [3]int
	embeds []float32 // (t·h/2·w/2, hidden)
}

func (im qwenImage) tokens() int { return im.grid[0] * im.grid[1] / 2 * im.grid[2] / 2 }

// qwenPrompt is text, <|vision_start|>, the image's <|image_pad|> tokens,
// <|vision_end|>, and text, for each image in turn.
func qwenPrompt(images []qwenImage, text ...[]int) []int {
	ids := append([]int(nil), text[0]...)
	for k, im := range images {
		ids = append(ids, modeltest.Qwen2VLStart)
		for range im.tokens() {
			ids = append(ids, modeltest.Qwen2VLImage)
		}
		ids = append(ids, modeltest.Qwen2VLEnd)
		ids = append(ids, text[k+1]...)
	}
	return ids
}

// qwenSpans places images in ids from offset from on: the runs of image
// tokens at or after from, with their grids merged by 2.
func qwenSpans(ids []int, images []qwenImage, from int) []model.ImageSpan {
	var spans []model.ImageSpan
	k := 0
	for t := 0; t < len(ids); t++ {
		if ids[t] != modeltest.Qwen2VLImage || (t > 0 && ids[t-1] == modeltest.Qwen2VLImage) {
			continue
		}
		if t >= from {
			g := images[k].grid
			spans = append(spans, model.ImageSpan{At: t - from, Embeds: images[k].embeds, Grid: [3]int{g[0], g[1] / 2, g[2] / 2}})
		}
		k++
	}
	return spans
}
