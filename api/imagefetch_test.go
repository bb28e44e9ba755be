package api_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestImageURLFetch: image URLs in chats are refused while the images
// setting is off (the default); "public" refuses this machine's addresses at
// dial time without sending a request; "any" fetches the image, which the
// vision model then reads like an inline one. Only admins change the setting.
func TestImageURLFetch(t *testing.T) {
	const vision = "test/tiny-vision"
	env := startLib(t, libOptions{NoHub: true})
	env.install(t, vision, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 4, SlidingWindow: 512})
	png, err := base64.StdEncoding.DecodeString(pngBase64(t))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	images := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/hop":
			http.Redirect(w, r, "/cat.png", http.StatusFound)
			return
		case "/missing.png":
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	defer images.Close()
	chat := func(url string) map[string]any {
		return map[string]any{"model": vision, "max_tokens": 3, "messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "text", "text": "What is this?"},
			{"type": "image_url", "image_url": map[string]any{"url": url}},
		}}}}
	}
	const param = "messages[0].content[1].image_url.url"
	setMode := func(mode string, want int) {
		t.Helper()
		env.JSON(t, "PUT", "/api/settings/images", env.Admin, map[string]string{"image_url_fetch": mode}, want, nil)
	}

	var set struct {
		Mode string `json:"image_url_fetch"`
	}
	env.JSON(t, "GET", "/api/settings/images", env.Admin, nil, http.StatusOK, &set)
	if set.Mode != "off" {
		t.Errorf("default image_url_fetch = %q, want off", set.Mode)
	}
	eb := env.Error(t, "POST", "/v1/chat/completions", env.Admin, chat(images.URL+"/cat.png"), http.StatusBadRequest)
	if eb.Param == nil || *eb.Param != param || eb.Code == nil || *eb.Code != "unsupported_value" {
		t.Errorf("off: %+v", eb)
	}

	_, userTok := env.Server.ApprovedUser(t, env.Admin, "user@example.com")
	env.Error(t, "PUT", "/api/settings/images", userTok, map[string]string{"image_url_fetch": "any"}, http.StatusForbidden)
	if eb := env.Error(t, "PUT", "/api/settings/images", env.Admin, map[string]string{"image_url_fetch": "yes"}, http.StatusBadRequest); eb.Param == nil || *eb.Param != "image_url_fetch" {
		t.Errorf("invalid mode: %+v", eb)
	}

	setMode("public", http.StatusOK)
	for _, u := range []string{images.URL + "/cat.png", strings.Replace(images.URL, "127.0.0.1", "localhost", 1) + "/cat.png"} {
		eb = env.Error(t, "POST", "/v1/chat/completions", env.Admin, chat(u), http.StatusBadRequest)
		if eb.Param == nil || *eb.Param != param || !strings.Contains(eb.Message, "not a public") {
			t.Errorf("public, %s: %+v", u, eb)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("public mode sent %d requests to a loopback address", n)
	}

	setMode("any", http.StatusOK)
	var answer struct {
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	env.JSON(t, "POST", "/v1/chat/completions", env.Admin, chat(images.URL+"/hop"), http.StatusOK, &answer)
	var inline struct {
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	env.JSON(t, "POST", "/v1/chat/completions", env.Admin, chat("data:image/png;base64,"+pngBase64(t)), http.StatusOK, &inline)
	if hits.Load() != 2 || answer.Usage.PromptTokens != inline.Usage.PromptTokens {
		t.Errorf("fetched through a redirect: %d requests, %d prompt tokens; inline %d", hits.Load(), answer.Usage.PromptTokens, inline.Usage.PromptTokens)
	}
	// The Responses API's input_image and Anthropic's url image source are
	// fetched the same way.
	var resp struct {
		Usage struct {
			InputTokens int `json:"input_tokens"`
		} `json:"usage"`
	}
	env.JSON(t, "POST", "/v1/responses", env.Admin, map[string]any{"model": vision, "max_output_tokens": 3,
		"input": []map[string]any{{"type": "message", "role": "user", "content": []map[string]any{
			{"type": "input_text", "text": "What is this?"},
			{"type": "input_image", "image_url": images.URL + "/cat.png", "detail": "low"},
		}}}}, http.StatusOK, &resp)
	if hits.Load() != 3 || resp.Usage.InputTokens != inline.Usage.PromptTokens {
		t.Errorf("/v1/responses: %d requests, %d input tokens; inline chat %d", hits.Load(), resp.Usage.InputTokens, inline.Usage.PromptTokens)
	}
	anthropic := func(url string) map[string]any {
		return map[string]any{"model": vision, "max_tokens": 3, "messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "text", "text": "What is this?"},
			{"type": "image", "source": map[string]any{"type": "url", "url": url}, "cache_control": map[string]string{"type": "ephemeral"}},
		}}}}
	}
	var msg struct {
		Usage struct {
			InputTokens int `json:"input_tokens"`
		} `json:"usage"`
	}
	env.JSON(t, "POST", "/v1/messages", env.Admin, anthropic(images.URL+"/cat.png"), http.StatusOK, &msg)
	if hits.Load() != 4 || msg.Usage.InputTokens == 0 {
		t.Errorf("/v1/messages: %d requests, %+v", hits.Load(), msg)
	}
	var notImage struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	env.JSON(t, "POST", "/v1/messages", env.Admin, anthropic(images.URL+"/missing.png"), http.StatusBadRequest, &notImage)
	if notImage.Error.Type != "invalid_request_error" || !strings.Contains(notImage.Error.Message, "messages[0].content[1].source.url") {
		t.Errorf("/v1/messages, a missing image: %+v", notImage)
	}

	eb = env.Error(t, "POST", "/v1/chat/completions", env.Admin, chat(images.URL+"/missing.png"), http.StatusBadRequest)
	if eb.Param == nil || *eb.Param != param || !strings.Contains(eb.Message, "404") {
		t.Errorf("any, a missing image: %+v", eb)
	}
}
