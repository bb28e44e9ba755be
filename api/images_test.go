package api_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// pngBase64 is a small PNG, base64.
func pngBase64(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 11, 7))
	for y := range 7 {
		for x := range 11 {
			img.Set(x, y, color.RGBA{uint8(x * 23), uint8(y * 31), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// TestImagesInEachProtocol: a vision model is marked as one in the local
// list and /api/show, and answers a chat with an image through OpenAI's
// image_url parts, Anthropic's image blocks and Ollama's images; a text
// model given one is a 400 in each protocol's error format, and so is an
// image URL to fetch.
func TestImagesInEachProtocol(t *testing.T) {
	const vision, text = "test/tiny-vision", "test/tiny-text"
	env := startLib(t, libOptions{NoHub: true})
	env.install(t, vision, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 4, SlidingWindow: 512})
	env.install(t, text, tinySpec)
	img := pngBase64(t)

	var local []engine.ModelInfo
	env.JSON(t, "GET", "/api/models/local", env.Admin, nil, http.StatusOK, &local)
	for _, m := range local {
		if m.Vision != (m.ID == vision) {
			t.Errorf("local list: %s has vision %v", m.ID, m.Vision)
		}
	}
	for id, want := range map[string]bool{vision: true, text: false} {
		var show struct {
			Capabilities []string `json:"capabilities"`
		}
		env.JSON(t, "POST", "/api/show", env.Admin, map[string]any{"model": id}, http.StatusOK, &show)
		if slices.Contains(show.Capabilities, "vision") != want {
			t.Errorf("/api/show %s: capabilities %v", id, show.Capabilities)
		}
	}

	openai := func(model, url string) map[string]any {
		return map[string]any{"model": model, "max_tokens": 3, "messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "text", "text": "What is this?"},
			{"type": "image_url", "image_url": map[string]any{"url": url}},
		}}}}
	}
	anthropic := func(model string) map[string]any {
		return map[string]any{"model": model, "max_tokens": 3, "messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": img}},
			{"type": "text", "text": "What is this?"},
		}}}}
	}
	responses := func(model, url string) map[string]any {
		return map[string]any{"model": model, "max_output_tokens": 3, "input": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "input_text", "text": "What is this?"},
			{"type": "input_image", "image_url": url, "detail": "auto"},
		}}}}
	}
	ollama := func(model string) map[string]any {
		return map[string]any{"model": model, "stream": false, "options": map[string]any{"num_predict": 3},
			"messages": []map[string]any{{"role": "user", "content": "What is this?", "images": []string{img}}}}
	}

	t.Run("answers", func(t *testing.T) {
		var chat struct {
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		env.JSON(t, "POST", "/v1/chat/completions", env.Admin, openai(vision, "data:image/png;base64,"+img), http.StatusOK, &chat)
		var plain struct {
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		env.JSON(t, "POST", "/v1/chat/completions", env.Admin, map[string]any{"model": vision, "max_tokens": 3,
			"messages": []map[string]any{{"role": "user", "content": "What is this?"}}}, http.StatusOK, &plain)
		if chat.Usage.PromptTokens < plain.Usage.PromptTokens+6 {
			t.Errorf("the image added %d prompt tokens", chat.Usage.PromptTokens-plain.Usage.PromptTokens)
		}
		var msg struct {
			Type  string `json:"type"`
			Usage struct {
				InputTokens int `json:"input_tokens"`
			} `json:"usage"`
		}
		env.JSON(t, "POST", "/v1/messages", env.Admin, anthropic(vision), http.StatusOK, &msg)
		if msg.Type != "message" || msg.Usage.InputTokens < plain.Usage.PromptTokens+6 {
			t.Errorf("/v1/messages: %+v", msg)
		}
		type response struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Output []struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"output"`
			Usage struct {
				InputTokens int `json:"input_tokens"`
			} `json:"usage"`
		}
		var resp, next response
		env.JSON(t, "POST", "/v1/responses", env.Admin, responses(vision, "data:image/png;base64,"+img), http.StatusOK, &resp)
		if resp.Status == "failed" || resp.Usage.InputTokens != chat.Usage.PromptTokens || len(resp.Output) == 0 || len(resp.Output[0].Content) == 0 {
			t.Fatalf("/v1/responses: %+v, want %d input tokens as in the chat", resp, chat.Usage.PromptTokens)
		}
		// The stored conversation keeps the image: the next turn reads as
		// many tokens as the same conversation sent whole to chat completions.
		env.JSON(t, "POST", "/v1/responses", env.Admin, map[string]any{"model": vision, "max_output_tokens": 3,
			"previous_response_id": resp.ID, "input": "And now?"}, http.StatusOK, &next)
		whole := openai(vision, "data:image/png;base64,"+img)
		whole["messages"] = append(whole["messages"].([]map[string]any),
			map[string]any{"role": "assistant", "content": resp.Output[0].Content[0].Text},
			map[string]any{"role": "user", "content": "And now?"})
		var wholeChat struct {
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		env.JSON(t, "POST", "/v1/chat/completions", env.Admin, whole, http.StatusOK, &wholeChat)
		if next.Usage.InputTokens != wholeChat.Usage.PromptTokens {
			t.Errorf("/v1/responses continued: %d input tokens, the whole conversation %d", next.Usage.InputTokens, wholeChat.Usage.PromptTokens)
		}
		var oll struct {
			Done            bool `json:"done"`
			PromptEvalCount int  `json:"prompt_eval_count"`
		}
		env.JSON(t, "POST", "/api/chat", env.Admin, ollama(vision), http.StatusOK, &oll)
		if !oll.Done || oll.PromptEvalCount < plain.Usage.PromptTokens+6 {
			t.Errorf("/api/chat: %+v", oll)
		}
	})

	t.Run("text model refuses", func(t *testing.T) {
		eb := env.Error(t, "POST", "/v1/chat/completions", env.Admin, openai(text, "data:image/png;base64,"+img), http.StatusBadRequest)
		if eb.Code == nil || *eb.Code != "model_not_vision" {
			t.Errorf("/v1/chat/completions: %+v", eb)
		}
		var body struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		env.JSON(t, "POST", "/v1/messages", env.Admin, anthropic(text), http.StatusBadRequest, &body)
		if body.Type != "error" || body.Error.Type != "invalid_request_error" || body.Error.Message == "" {
			t.Errorf("/v1/messages: %+v", body)
		}
		if eb := env.Error(t, "POST", "/v1/responses", env.Admin, responses(text, "data:image/png;base64,"+img), http.StatusBadRequest); eb.Code == nil || *eb.Code != "model_not_vision" ||
			eb.Param == nil || *eb.Param != "input[0].content" {
			t.Errorf("/v1/responses: %+v", eb)
		}
		var oll struct {
			Error string `json:"error"`
		}
		env.JSON(t, "POST", "/api/chat", env.Admin, ollama(text), http.StatusBadRequest, &oll)
		if oll.Error == "" {
			t.Error("/api/chat: no error message")
		}
	})

	t.Run("URLs are not fetched", func(t *testing.T) {
		eb := env.Error(t, "POST", "/v1/chat/completions", env.Admin, openai(vision, "https://example.com/cat.png"), http.StatusBadRequest)
		if eb.Param == nil || *eb.Param != "messages[0].content[1].image_url.url" {
			t.Errorf("image URL: %+v", eb)
		}
		eb = env.Error(t, "POST", "/v1/responses", env.Admin, responses(vision, "https://example.com/cat.png"), http.StatusBadRequest)
		if eb.Param == nil || *eb.Param != "input[0].content[1].image_url" || eb.Code == nil || *eb.Code != "unsupported_value" {
			t.Errorf("/v1/responses image URL: %+v", eb)
		}
		eb = env.Error(t, "POST", "/v1/responses", env.Admin, map[string]any{"model": vision, "input": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "input_image", "file_id": "file-123"}}}}}, http.StatusBadRequest)
		if eb.Param == nil || *eb.Param != "input[0].content[0].file_id" {
			t.Errorf("/v1/responses file_id: %+v", eb)
		}
		eb = env.Error(t, "POST", "/v1/responses", env.Admin, map[string]any{"model": vision, "input": []map[string]any{{"role": "system", "content": []map[string]any{
			{"type": "input_image", "image_url": "data:image/png;base64," + img}}}}}, http.StatusBadRequest)
		if eb.Param == nil || *eb.Param != "input[0].content[0].type" {
			t.Errorf("/v1/responses image in a system message: %+v", eb)
		}
		eb = env.Error(t, "POST", "/v1/chat/completions", env.Admin, openai(vision, "data:image/png;base64,@@@"), http.StatusBadRequest)
		if eb.Param == nil || *eb.Param != "messages[0].content[1].image_url.url" {
			t.Errorf("bad base64: %+v", eb)
		}
	})
}
