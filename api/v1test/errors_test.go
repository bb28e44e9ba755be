package v1test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/pool"
)

func TestErrors(t *testing.T) {
	e := start(t, envOptions{})
	long := strings.Repeat("word ", 1200)
	tests := []struct {
		name, path string
		cred       string // "" sends none; "key" the env's key
		body       any
		status     int
		typ, code  string
		param      string
	}{
		{"body too large", "/v1/chat/completions", "key", chatBody(map[string]any{"messages": userMsg(strings.Repeat("x", 5<<20))}), 413, "request_too_large", "", ""},
		{"malformed JSON", "/v1/chat/completions", "key", `{"model":"test/tiny","messages":[`, 400, "invalid_request_error", "", ""},
		{"wrong type", "/v1/chat/completions", "key", chatBody(map[string]any{"temperature": "warm"}), 400, "invalid_request_error", "", "temperature"},
		{"unknown field", "/v1/chat/completions", "key", chatBody(map[string]any{"temprature": 1}), 400, "invalid_request_error", "unknown_parameter", "temprature"},
		{"n out of range", "/v1/chat/completions", "key", chatBody(map[string]any{"n": 9}), 400, "invalid_request_error", "", "n"},
		{"max_tokens 0", "/v1/chat/completions", "key", chatBody(map[string]any{"max_tokens": 0}), 400, "invalid_request_error", "", "max_tokens"},
		{"image content", "/v1/chat/completions", "key", chatBody(map[string]any{"messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "image_url", "image_url": map[string]string{"url": "data:image/png;base64,AAAA"}}}}}}), 400, "invalid_request_error", "model_not_vision", "messages[0].content"},
		{"unsupported parameter", "/v1/chat/completions", "key", chatBody(map[string]any{"audio": map[string]string{"voice": "alloy"}}), 400, "invalid_request_error", "unsupported_parameter", "audio"},
		{"missing key", "/v1/chat/completions", "", chatBody(nil), 401, "authentication_error", "missing_credentials", ""},
		{"bad key", "/v1/chat/completions", "bad-key", chatBody(nil), 401, "authentication_error", "invalid_api_key", ""},
		{"bad token", "/v1/chat/completions", "not-a-token", chatBody(nil), 401, "authentication_error", "invalid_token", ""},
		{"unknown model", "/v1/chat/completions", "key", chatBody(map[string]any{"model": "nobody/nothing"}), 404, "not_found_error", "model_not_found", "model"},
		{"model is a path", "/v1/chat/completions", "key", chatBody(map[string]any{"model": "/etc"}), 404, "not_found_error", "model_not_found", "model"},
		{"prompt over the context", "/v1/chat/completions", "key", chatBody(map[string]any{"messages": userMsg(long)}), 400, "invalid_request_error", "context_length_exceeded", "messages"},
		{"max_tokens over the context", "/v1/chat/completions", "key", chatBody(map[string]any{"max_tokens": 5000}), 400, "invalid_request_error", "context_length_exceeded", "messages"},
		{"completions token prompt", "/v1/completions", "key", completion(map[string]any{"prompt": []int{1, 2}}), 400, "invalid_request_error", "unsupported_value", "prompt"},
		{"completions context", "/v1/completions", "key", completion(map[string]any{"prompt": long}), 400, "invalid_request_error", "context_length_exceeded", "messages"},
		{"logit_bias outside the vocabulary", "/v1/chat/completions", "key", chatBody(map[string]any{"logit_bias": map[string]int{"100000": 1}}), 400, "invalid_request_error", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred := tt.cred
			if cred == "key" {
				cred = e.key
			}
			if cred == "bad-key" {
				cred = e.key[:len(e.key)-4] + "0000" // looks like a key, is none
			}
			eb := e.Error(t, "POST", tt.path, cred, tt.body, tt.status)
			if eb.Type != tt.typ {
				t.Errorf("type %q, want %q (%s)", eb.Type, tt.typ, eb.Message)
			}
			if tt.code != "" && (eb.Code == nil || *eb.Code != tt.code) {
				t.Errorf("code %v, want %q (%s)", eb.Code, tt.code, eb.Message)
			}
			if tt.param != "" && (eb.Param == nil || *eb.Param != tt.param) {
				t.Errorf("param %v, want %q (%s)", eb.Param, tt.param, eb.Message)
			}
		})
	}
	if ev := e.auditOf(t, "v1.chat.completions"); ev.Status != "error" || ev.HTTPStatus != 400 || ev.ErrorType != "invalid_request_error" || ev.Model != tinyID {
		t.Errorf("audit of the last refusal %+v", ev)
	}
}

// TestQueueFull holds the model's only slot, lets one request queue behind it and
// expects the next to be refused with 429 and Retry-After.
func TestQueueFull(t *testing.T) {
	e := start(t, envOptions{pool: pool.Config{MaxParallel: 1, MaxQueue: 1}})
	release, err := e.eng.Hold(context.Background(), tinyID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	queued := make(chan int, 1)
	go func() {
		defer wg.Done()
		resp := e.post(t, "/v1/chat/completions", chatBody(map[string]any{"max_tokens": 2}))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		queued <- resp.StatusCode
	}()
	eventually(t, "a queued request", func() bool {
		for _, s := range e.eng.Status() {
			if s.ID == tinyID && s.Queued == 1 {
				return true
			}
		}
		return false
	})
	resp := e.post(t, "/v1/chat/completions", chatBody(map[string]any{"max_tokens": 2}))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"rate_limit_error"`) {
		t.Errorf("status %d, Retry-After %q, body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	release()
	wg.Wait()
	if code := <-queued; code != http.StatusOK {
		t.Errorf("the queued request got %d", code)
	}
}

func TestNoMemory(t *testing.T) {
	e := start(t, envOptions{pool: pool.Config{BudgetBytes: 1}})
	eb := e.Error(t, "POST", "/v1/chat/completions", e.key, chatBody(nil), http.StatusInsufficientStorage)
	if eb.Code == nil || *eb.Code != "model_too_large" {
		t.Errorf("error %+v", eb)
	}
}

// TestDisconnect drops a stream after its first content and checks that the
// engine stopped: far fewer tokens were computed than max_tokens asked for.
func TestDisconnect(t *testing.T) {
	e := start(t, envOptions{})
	e.gate.slow(5 * time.Millisecond) // 300 tokens would take 1.5 s
	const maxTokens = 300
	body := chatBody(map[string]any{"max_tokens": maxTokens, "stream": true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", e.URL+"/v1/chat/completions", strings.NewReader(mustJSON(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := newSSEReader(resp.Body)
	for {
		ev, ok := r.next()
		if !ok {
			t.Fatal("stream ended before any content")
		}
		if strings.Contains(ev.Data, `"content":"`) && !strings.Contains(ev.Data, `"role"`) {
			break
		}
	}
	cancel()
	resp.Body.Close()
	ev := e.auditOf(t, "v1.chat.completions")
	if ev.Status != "cancelled" || ev.ErrorType != "cancelled" {
		t.Errorf("audit %+v", ev)
	}
	n := e.gate.forwards.Load()
	if n > maxTokens/2 {
		t.Errorf("the engine computed %d tokens after the client left (max_tokens %d)", n, maxTokens)
	}
	// The generation holds its lease until its last Forward returns: once no
	// request is in flight, the count is final. Had generation gone on after the
	// client left, the lease would be held until max_tokens and the count would
	// show it.
	eventually(t, "the generation's lease to be released", func() bool {
		for _, m := range e.eng.Status() {
			if m.InFlight > 0 {
				return false
			}
		}
		return true
	})
	if later := e.gate.forwards.Load(); later > maxTokens/2 {
		t.Errorf("generation went on after the handler returned: %d then %d forwards (max_tokens %d)", n, later, maxTokens)
	}
	t.Logf("stopped after %d forwards, %d completion tokens audited", n, ev.CompletionTokens)
}
