package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestQwen2VLTextChat: a Qwen2.5-VL checkpoint chats as a text model (its
// M-RoPE positions text as plain RoPE does; engine/model/hfref checks the
// logits), the second turn reusing the first one's prefix, on each layout
// its checkpoints come in. Without its vision tower an image is refused.
func TestQwen2VLTextChat(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, layout := range []string{"", "hf452", "mlx"} {
		t.Run("layout="+layout, func(t *testing.T) {
			dir := tinyModelSpec(t, modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 5, QuantBits: 4, GroupSize: 32, VisionLayout: layout})
			info, err := e.Model(ctx, dir)
			if err != nil || info.Unsupported != "" {
				t.Fatalf("model info %+v, err %v", info, err)
			}
			msgs := []Message{{Role: "user", Content: "Once upon a time there was"}}
			for turn := range 2 {
				res, err := e.Chat(ctx, ChatRequest{Model: dir, Messages: msgs, Options: GenOptions{MaxTokens: 4}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Usage.CompletionTokens == 0 {
					t.Fatalf("turn %d: no tokens generated: %+v", turn, res)
				}
				msgs = append(msgs, Message{Role: "assistant", Content: res.Content}, Message{Role: "user", Content: "and then?"})
			}
			img := []Message{{Role: "user", Content: "what is this?", Images: []Image{{Data: []byte("not read")}}}}
			if _, err := e.Chat(ctx, ChatRequest{Model: dir, Messages: img, Options: GenOptions{MaxTokens: 1}}, nil); !errors.Is(err, ErrNoImages) {
				t.Errorf("an image given to the text-only model: %v, want ErrNoImages", err)
			}
		})
	}
}

// qwen2VLDir is a tiny Qwen2.5-VL (or Qwen2-VL, by the tower) with its
// vision tower in layout: patches of 4 pixels merged 2×2, images resized to
// 256..1024 pixels.
func qwen2VLDir(t *testing.T, layout string, tower modeltest.QwenVision) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 9, MaxPos: 1024, VisionLayout: layout}
	if err := modeltest.WriteQwen2VL(dir, spec, tower); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestChatWithQwen2VLImages: Qwen2.5-VL reads images in chats through the
// engine (the processor's grid, the prompt's run of pads, the tower, the
// grid's M-RoPE positions), and a prefix reused from the cache, with the
// image or up to it, answers as a cold engine does: the rope delta an image
// leaves survives the cache's cut.
func TestChatWithQwen2VLImages(t *testing.T) {
	for _, c := range []struct {
		name, layout string
		tower        modeltest.QwenVision
	}{
		{"qwen2.5-vl", "", modeltest.QwenVision{Seed: 4}},
		{"qwen2.5-vl", "mlx", modeltest.QwenVision{Seed: 4}},
		{"qwen2-vl", "hf452", modeltest.QwenVision{Seed: 4, Qwen2VL: true}},
	} {
		t.Run(c.name+"/layout="+c.layout, func(t *testing.T) {
			checkImageChat(t, qwen2VLDir(t, c.layout, c.tower), 8, func(_, first *Result) int { return first.Usage.PromptTokens - 7 })
		})
	}
}
