package engine

import (
	"context"
	"errors"
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
