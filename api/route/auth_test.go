package route

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// A routed request carries its backend's key in the header its kind reads, and
// a key changed by Set is the one the very next request sends: the header
// value is built once per config, never kept past a change.
func TestBackendKeyHeader(t *testing.T) {
	var (
		mu   sync.Mutex
		seen http.Header // guarded by mu; the last request's headers
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		seen = req.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x","type":"message","role":"assistant","model":"m","content":[],` +
			`"choices":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`))
	}))
	defer srv.Close()
	r := New(Options{})
	send := func(protocol, body string, client http.Header) http.Header {
		t.Helper()
		_, err := r.Serve(context.Background(), httptest.NewRecorder(), &Request{Protocol: protocol,
			Body: []byte(body), Header: client, Targets: []Target{{Backend: "b", Model: "m"}}})
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
	chat := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	msgs := `{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`

	for _, key := range []string{"sk-one", "sk-one", "sk-two"} {
		r.Set([]Backend{{Name: "b", Kind: KindOpenAI, BaseURL: srv.URL, APIKey: key}}, nil)
		for range 2 {
			if h := send(OpenAIChat, chat, nil); h.Get("Authorization") != "Bearer "+key || h.Get("X-Api-Key") != "" {
				t.Fatalf("openai backend with key %q got Authorization %q, X-Api-Key %q", key, h.Get("Authorization"), h.Get("X-Api-Key"))
			}
		}
	}
	r.Set([]Backend{{Name: "b", Kind: KindOpenAI, BaseURL: srv.URL}}, nil)
	if h := send(OpenAIChat, chat, nil); h.Get("Authorization") != "" {
		t.Fatalf("a backend without a key got Authorization %q", h.Get("Authorization"))
	}

	r.Set([]Backend{{Name: "b", Kind: KindAnthropic, BaseURL: srv.URL, APIKey: "ak-three"}}, nil)
	h := send(AnthropicMessages, msgs, http.Header{"Authorization": {"Bearer client"}})
	if h.Get("X-Api-Key") != "ak-three" || h.Get("Authorization") != "" || h.Get("Anthropic-Version") != anthropicVersion {
		t.Fatalf("anthropic backend got X-Api-Key %q, Authorization %q, version %q", h.Get("X-Api-Key"), h.Get("Authorization"), h.Get("Anthropic-Version"))
	}
	h = send(AnthropicMessages, msgs, http.Header{"Anthropic-Version": {"2099-01-01"}, "Anthropic-Beta": {"tools"}})
	if h.Get("Anthropic-Version") != "2099-01-01" || h.Get("Anthropic-Beta") != "tools" {
		t.Fatalf("the client's anthropic headers did not pass: version %q, beta %q", h.Get("Anthropic-Version"), h.Get("Anthropic-Beta"))
	}
}
