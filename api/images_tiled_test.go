package api_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestTiledImagesChat: a SmolVLM (Idefics3) model is marked as a vision
// model and answers an image_url data URL through /v1/chat/completions,
// its tiles' tokens counted in the prompt; Ollama's images reach it too.
func TestTiledImagesChat(t *testing.T) {
	const id = "test/tiny-smolvlm"
	env := startLib(t, libOptions{NoHub: true})
	env.install(t, id, modeltest.Spec{Arch: "idefics3", Layers: 2, Seed: 4})
	img := pngBase64(t)

	var show struct {
		Capabilities []string `json:"capabilities"`
	}
	env.JSON(t, "POST", "/api/show", env.Admin, map[string]any{"model": id}, http.StatusOK, &show)
	if !slices.Contains(show.Capabilities, "vision") {
		t.Errorf("/api/show: capabilities %v", show.Capabilities)
	}
	type usage struct {
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	var chat, plain usage
	env.JSON(t, "POST", "/v1/chat/completions", env.Admin, map[string]any{"model": id, "max_tokens": 3,
		"messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "text", "text": "What is this?"},
			{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + img}},
		}}}}, http.StatusOK, &chat)
	env.JSON(t, "POST", "/v1/chat/completions", env.Admin, map[string]any{"model": id, "max_tokens": 3,
		"messages": []map[string]any{{"role": "user", "content": "What is this?"}}}, http.StatusOK, &plain)
	// 11x7 is scaled to 36x22 (22: 36/(11/7) made even), then 36x36: a 2x2
	// grid and the global tile, four placeholders each and the tokens around.
	if d := chat.Usage.PromptTokens - plain.Usage.PromptTokens; d < 5*4+5*2+2 || len(chat.Choices) != 1 {
		t.Errorf("the image added %d prompt tokens (%+v)", d, chat)
	}
	var oll struct {
		Done            bool `json:"done"`
		PromptEvalCount int  `json:"prompt_eval_count"`
	}
	env.JSON(t, "POST", "/api/chat", env.Admin, map[string]any{"model": id, "stream": false, "options": map[string]any{"num_predict": 3},
		"messages": []map[string]any{{"role": "user", "content": "What is this?", "images": []string{img}}}}, http.StatusOK, &oll)
	if !oll.Done || oll.PromptEvalCount < plain.Usage.PromptTokens+5*4+5*2+2 {
		t.Errorf("/api/chat: %+v, text alone %d prompt tokens", oll, plain.Usage.PromptTokens)
	}
}

// TestGridImagesChat: a Qwen2.5-VL model reads images at their own size
// through the API: a larger image takes more prompt tokens (its grid of
// patches), in chat completions, Anthropic's messages and Ollama's chat
// alike, and the same image costs the same in each.
func TestGridImagesChat(t *testing.T) {
	const id = "test/tiny-qwen2.5-vl"
	env := startLib(t, libOptions{NoHub: true})
	env.installWith(t, id, 9, func(dir string) error {
		return modeltest.WriteQwen2VL(dir, modeltest.Spec{Arch: "qwen2vl", Layers: 2, Seed: 9, MaxPos: 1024}, modeltest.QwenVision{Seed: 4})
	})
	var show struct {
		Capabilities []string `json:"capabilities"`
	}
	env.JSON(t, "POST", "/api/show", env.Admin, map[string]any{"model": id}, http.StatusOK, &show)
	if !slices.Contains(show.Capabilities, "vision") {
		t.Errorf("/api/show: capabilities %v", show.Capabilities)
	}
	small := pngBase64(t) // 11x7
	big := func() string {
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		for y := range 30 {
			for x := range 40 {
				img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), uint8(x * y), 255})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b.Bytes())
	}()
	chat := func(data, mime string) int {
		var r struct {
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		env.JSON(t, "POST", "/v1/chat/completions", env.Admin, map[string]any{"model": id, "max_tokens": 3,
			"messages": []map[string]any{{"role": "user", "content": []map[string]any{
				{"type": "image_url", "image_url": map[string]any{"url": "data:" + mime + ";base64," + data}},
				{"type": "text", "text": "What is this?"},
			}}}}, http.StatusOK, &r)
		return r.Usage.PromptTokens
	}
	smallTokens, bigTokens := chat(small, "image/png"), chat(big, "image/jpeg")
	if bigTokens <= smallTokens {
		t.Errorf("a 40x30 image took %d prompt tokens, an 11x7 one %d", bigTokens, smallTokens)
	}
	var msg struct {
		Usage struct {
			InputTokens int `json:"input_tokens"`
			CacheRead   int `json:"cache_read_input_tokens"` // the prefix cache held the same prompt
		} `json:"usage"`
	}
	env.JSON(t, "POST", "/v1/messages", env.Admin, map[string]any{"model": id, "max_tokens": 3, "messages": []map[string]any{{"role": "user", "content": []map[string]any{
		{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/jpeg", "data": big}},
		{"type": "text", "text": "What is this?"},
	}}}}, http.StatusOK, &msg)
	var oll struct {
		PromptEvalCount int `json:"prompt_eval_count"`
	}
	env.JSON(t, "POST", "/api/chat", env.Admin, map[string]any{"model": id, "stream": false, "options": map[string]any{"num_predict": 3},
		"messages": []map[string]any{{"role": "user", "content": "What is this?", "images": []string{big}}}}, http.StatusOK, &oll)
	if msg.Usage.InputTokens+msg.Usage.CacheRead != bigTokens || oll.PromptEvalCount != bigTokens {
		t.Errorf("the 40x30 image: %d prompt tokens in chat completions, %+v in messages, %d in /api/chat", bigTokens, msg.Usage, oll.PromptEvalCount)
	}
}
