package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
	"github.com/mlx-manager/mlx-manager/engine/vision"
)

// gridModelDir is a tiny model whose vision tower reads each image at its
// own size (Qwen2.5-VL's, modeltest.QwenTowerArch, on a Llama text model):
// patches of 4 pixels merged 2×2, images resized to 256..1024 pixels.
func gridModelDir(t *testing.T) string {
	t.Helper()
	modeltest.RegisterQwenTower()
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := modeltest.Spec{Arch: "llama", Hidden: 64, Layers: 2, Seed: 9, MaxPos: 1024}
	if err := modeltest.WriteQwenTowerModel(dir, spec, modeltest.QwenVision{Seed: 4}, "visual."); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGridPrompt: an image becomes <|vision_start|>, one <|image_pad|> per
// merged block of its grid and <|vision_end|>, with nothing around them (a
// 23x17 image is resized to 24x16, 6x4 patches, 3x2 blocks; a 9x30 one to
// 8x32, 2x8 patches, 1x4 blocks), each placed with its patches and grid.
func TestGridPrompt(t *testing.T) {
	dir := gridModelDir(t)
	l, err := openLoaded(context.Background(), "grid", dir, newCPURunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.vision == nil || l.vision.err != nil {
		t.Fatalf("vision input %+v", l.vision)
	}
	a, b := pngImage(t, 23, 17, 1), pngImage(t, 9, 30, 2)
	const text = "Compare"
	j, err := l.chatPrompt(&ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: text,
		Images: []Image{{Data: a, At: 3}, {Data: b, At: len(text)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	const start, end, pad = modeltest.QwenVisionStart, modeltest.QwenVisionEnd, modeltest.QwenImagePad
	at := slices.Index(j.prompt, start)
	if at < 0 {
		t.Fatalf("prompt %v has no image", j.prompt)
	}
	mid := l.tok.EncodeSegments([]tokenizer.Segment{{Text: text[3:]}}, false)
	want := []int32{start, pad, pad, pad, pad, pad, pad, end}
	want = append(want, mid...)
	want = append(want, start, pad, pad, pad, pad, end)
	if at+len(want) > len(j.prompt) || !slices.Equal(j.prompt[at:at+len(want)], want) {
		t.Fatalf("prompt %v, want the images as %v", j.prompt[at:], want)
	}
	if len(j.images) != 2 {
		t.Fatalf("%d images placed", len(j.images))
	}
	for i, c := range []struct {
		data []byte
		at   int
		grid [3]int
	}{{a, at + 1, [3]int{1, 4, 6}}, {b, at + 8 + len(mid) + 1, [3]int{1, 8, 2}}} {
		tl, err := l.vision.proc.ProcessTiles(c.data, vision.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		img := j.images[i]
		if img.at != c.at || img.grid != c.grid || tl.Grid != c.grid || !slices.Equal(img.pixels, tl.Tiles[0]) {
			t.Errorf("image %d at %d with grid %v, want %d, %v", i, img.at, img.grid, c.at, c.grid)
		}
	}
}

// TestChatWithGridImages: a chat with an image of its own size reads it
// (its tokens are in the prompt, the answer changes), the prefix cache
// reuses an image's KV only for the same image (images of other sizes, and
// so of other numbers of tokens, included), and a reused prefix gives the
// answer a cold engine gives.
func TestChatWithGridImages(t *testing.T) {
	// a: <|vision_start|>, 6 pads, <|vision_end|>. b shares the text before
	// the pads, <|vision_start|> included, and none of a's 6 pads and end.
	checkImageChat(t, gridModelDir(t), 8, func(_, first *Result) int { return first.Usage.PromptTokens - 7 })
}

// TestGridProcessorRefused: a processor that patches images otherwise than
// the tower reads them, or resizes them to a fixed size, leaves the model
// chatting and its images refused with the reason.
func TestGridProcessorRefused(t *testing.T) {
	for name, c := range map[string]struct{ proc, want string }{
		"patch size": {`{"image_processor_type": "Qwen2VLImageProcessor", "patch_size": 14}`, "patches 14 pixels"},
		"fixed size": {`{"image_processor_type": "SiglipImageProcessor"}`, "reads a grid of patches"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := gridModelDir(t)
			if err := os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(c.proc), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := openLoaded(context.Background(), "grid", dir, newCPURunner, SchedConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.vision == nil || l.vision.proc != nil || !strings.Contains(fmt.Sprint(l.vision.err), c.want) {
				t.Fatalf("vision input %+v, want refused with %q", l.vision, c.want)
			}
		})
	}
}

// TestGridMaxPixelsBounded: a checkpoint's max_pixels above the engine's
// bound (Qwen2.5-VL's 12845056) is lowered to it; min_pixels stays.
func TestGridMaxPixelsBounded(t *testing.T) {
	dir := gridModelDir(t)
	proc := `{"image_processor_type": "Qwen2VLImageProcessor", "patch_size": 4, "min_pixels": 3136, "max_pixels": 12845056}`
	if err := os.WriteFile(filepath.Join(dir, "preprocessor_config.json"), []byte(proc), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openLoaded(context.Background(), "grid", dir, newCPURunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.vision == nil || l.vision.proc == nil || l.vision.proc.MaxPixels != maxGridPixels || l.vision.proc.MinPixels != 3136 {
		t.Fatalf("vision input %+v", l.vision)
	}
}
