package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/apitest"
)

// Finding 6 of issue #27: no per-user or per-key limit. Over a quota, /v1 answers
// 429 with Retry-After, in OpenAI's format on /v1/chat and Anthropic's on /v1/messages.
func TestV1QuotaPerKey(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	_, user := s.ApprovedUser(t, admin, "bob@example.com")
	var k struct {
		Key string `json:"key"`
	}
	s.JSON(t, "POST", "/api/auth/api-keys", user, map[string]string{"name": "ci"}, 201, &k)
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"quota_key_per_minute": 2}, 200, nil)

	chat := map[string]any{"model": "org/m", "messages": []map[string]string{{"role": "user", "content": "hi"}}}
	for i := range 2 {
		resp := s.Do(t, "POST", "/v1/chat/completions", k.Key, chat)
		resp.Body.Close()
		if resp.StatusCode == 429 {
			t.Fatalf("request %d refused under the quota", i+1)
		}
	}
	resp := s.Do(t, "POST", "/v1/chat/completions", k.Key, chat)
	var openaiErr struct {
		Error struct {
			Type string `json:"type"`
			Code string `json:"code"`
		} `json:"error"`
	}
	decode(t, resp, &openaiErr)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" || openaiErr.Error.Code != "quota_exceeded" {
		t.Fatalf("over the quota: %d, Retry-After %q, %+v", resp.StatusCode, resp.Header.Get("Retry-After"), openaiErr)
	}

	resp = s.Do(t, "POST", "/v1/messages", k.Key, map[string]any{"model": "org/m", "max_tokens": 4, "messages": []map[string]string{{"role": "user", "content": "hi"}}})
	var anthropicErr struct {
		Type  string `json:"type"`
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	decode(t, resp, &anthropicErr)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || anthropicErr.Type != "error" || anthropicErr.Error.Type != "rate_limit_error" {
		t.Fatalf("/v1/messages over the quota: %d, %+v", resp.StatusCode, anthropicErr)
	}

	// The user's session is another subject than the key, so it still gets in; and
	// after the minute the key does too.
	resp = s.Do(t, "POST", "/v1/chat/completions", user, chat)
	resp.Body.Close()
	if resp.StatusCode == 429 {
		t.Fatal("the user's session was refused by the key's quota")
	}
	s.Clock.Advance(time.Minute)
	resp = s.Do(t, "POST", "/v1/chat/completions", k.Key, chat)
	resp.Body.Close()
	if resp.StatusCode == 429 {
		t.Fatal("still refused after the minute")
	}
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
