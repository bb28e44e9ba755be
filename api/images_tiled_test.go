package api_test

import (
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
