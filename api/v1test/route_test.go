package v1test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests route through a front daemon to a second daemon (a real server on
// loopback, its own data dir and API key): its /v1/chat/completions as an
// OpenAI-compatible backend, its /v1/messages as an Anthropic one.

type backendView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	HasKey   bool   `json:"has_key"`
	KeyLast4 string `json:"key_last4"`
	Health   struct {
		Healthy   bool   `json:"healthy"`
		Failures  int    `json:"failures"`
		LastError string `json:"last_error"`
	} `json:"health"`
}

type target struct {
	Backend string `json:"backend"`
	Model   string `json:"model,omitempty"`
}

type rule struct {
	Pattern string   `json:"pattern"`
	Targets []target `json:"targets"`
}

// addBackend registers a backend on the front daemon (its admin's API key).
func (e *env) addBackend(t *testing.T, name, kind, baseURL, key string, extra map[string]any) backendView {
	t.Helper()
	body := map[string]any{"name": name, "kind": kind, "base_url": baseURL, "api_key": key}
	for k, v := range extra {
		body[k] = v
	}
	var b backendView
	e.JSON(t, "POST", "/api/backends", e.key, body, http.StatusCreated, &b)
	return b
}

func (e *env) setRules(t *testing.T, rules ...rule) {
	t.Helper()
	e.JSON(t, "PUT", "/api/settings/routing", e.key, map[string]any{"rules": rules}, http.StatusOK, nil)
}

func (e *env) backends(t *testing.T, probe bool) map[string]backendView {
	t.Helper()
	var list []backendView
	if probe {
		e.JSON(t, "POST", "/api/backends/probe", e.key, nil, http.StatusOK, &list)
	} else {
		e.JSON(t, "GET", "/api/backends", e.key, nil, http.StatusOK, &list)
	}
	out := map[string]backendView{}
	for _, b := range list {
		out[b.Name] = b
	}
	return out
}

// noKeyIn fails when a file of dir or the log holds the key.
func noKeyIn(t *testing.T, key string, dir string, log *syncBuffer) {
	t.Helper()
	if bytes.Contains(log.Bytes(), []byte(key)) {
		t.Error("the front daemon's log holds a backend's API key")
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("%s holds a backend's API key", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func TestRoutePassThrough(t *testing.T) {
	back := start(t, envOptions{})
	var log syncBuffer
	front := start(t, envOptions{log: &log})
	b := front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, map[string]any{"models": []string{"served/by-gpu", tinyID}})
	if !b.HasKey || b.KeyLast4 != back.key[len(back.key)-4:] || !b.Health.Healthy {
		t.Fatalf("backend %+v", b)
	}
	front.setRules(t, rule{Pattern: "remote/*", Targets: []target{{Backend: "gpu", Model: tinyID}}})

	direct := back.chat(t, map[string]any{"max_tokens": 5})
	routed := front.chat(t, map[string]any{"model": "remote/tiny", "max_tokens": 5})
	if content(routed, 0) != content(direct, 0) || routed.Usage.PromptTokens != direct.Usage.PromptTokens ||
		routed.Usage.CompletionTokens != direct.Usage.CompletionTokens || routed.Model != tinyID {
		t.Errorf("routed %+v\ndirect %+v", routed, direct)
	}
	ev := front.auditOf(t, "v1.chat.completions")
	if ev.Model != "remote/tiny" || ev.Backend != "gpu" || ev.PromptTokens != direct.Usage.PromptTokens ||
		ev.CompletionTokens != direct.Usage.CompletionTokens || ev.Status != "success" {
		t.Errorf("audit %+v", ev)
	}

	// Streams: the usage chunk the router asks for reaches only a client that asked.
	for _, include := range []bool{false, true} {
		extra := map[string]any{"model": "remote/tiny", "max_tokens": 5}
		if include {
			extra["stream_options"] = map[string]any{"include_usage": true}
		}
		s := front.chatStream(t, extra)
		last := s.chunks[len(s.chunks)-1]
		if s.content[0] != content(direct, 0) || (last.Usage != nil) != include {
			t.Errorf("include_usage %v: stream %q, last chunk %+v", include, s.content[0], last)
		}
		if ev := front.auditOf(t, "v1.chat.completions"); ev.CompletionTokens != direct.Usage.CompletionTokens {
			t.Errorf("include_usage %v: audit %+v", include, ev)
		}
	}

	// Unknown fields reach the backend untouched: this one refuses them, and its
	// refusal reaches the client naming the backend.
	e := front.Error(t, "POST", "/v1/chat/completions", front.key, chatBody(map[string]any{"model": "remote/tiny", "frobnicate": 1}), http.StatusBadRequest)
	if !strings.HasPrefix(e.Message, "backend gpu: 400 ") || !strings.Contains(e.Message, "frobnicate") {
		t.Errorf("error %+v", e)
	}

	// A model the backend lists is routed without a rule, and /v1/models shows it.
	var models struct {
		Data []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	front.JSON(t, "GET", "/v1/models", front.key, nil, http.StatusOK, &models)
	found := false
	for _, m := range models.Data {
		found = found || m.ID == "served/by-gpu" && m.OwnedBy == "gpu"
	}
	if !found {
		t.Errorf("/v1/models %+v lacks served/by-gpu", models.Data)
	}
	var one struct {
		ID      string `json:"id"`
		OwnedBy string `json:"owned_by"`
	}
	front.JSON(t, "GET", "/v1/models/served%2Fby-gpu", front.key, nil, http.StatusOK, &one)
	if one.ID != "served/by-gpu" || one.OwnedBy != "gpu" {
		t.Errorf("GET /v1/models/served/by-gpu: %+v", one)
	}
	// A model this machine has stays here though the backend lists it too.
	front.chat(t, map[string]any{"max_tokens": 2})
	if ev := front.auditOf(t, "v1.chat.completions"); ev.Backend != "" || ev.Model != tinyID {
		t.Errorf("a local model went to a backend: %+v", ev)
	}
	e = front.Error(t, "POST", "/v1/chat/completions", front.key, chatBody(map[string]any{"model": "served/by-gpu"}), http.StatusNotFound)
	if !strings.HasPrefix(e.Message, "backend gpu: 404 ") {
		t.Errorf("the backend's 404: %+v", e)
	}
	noKeyIn(t, back.key, front.DataDir, &log)
}

func TestRouteTranslation(t *testing.T) {
	back := start(t, envOptions{})
	var log syncBuffer
	front := start(t, envOptions{log: &log})
	front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, nil)
	front.addBackend(t, "claude", "anthropic", back.URL+"/v1", back.key, nil)
	front.setRules(t,
		rule{Pattern: "gpu/tiny", Targets: []target{{Backend: "gpu", Model: tinyID}}},
		rule{Pattern: "claude/tiny", Targets: []target{{Backend: "claude", Model: tinyID}}})

	t.Run("anthropic client, openai backend", func(t *testing.T) {
		var direct, routed anthropicMessage
		back.call(t, "/v1/messages", messagesBody(nil), http.StatusOK, &direct)
		front.call(t, "/v1/messages", messagesBody(map[string]any{"model": "gpu/tiny"}), http.StatusOK, &routed)
		if len(routed.Content) != 1 || routed.Content[0].Text != direct.Content[0].Text || routed.StopReason != direct.StopReason ||
			routed.Usage.OutputTokens != direct.Usage.OutputTokens || routed.Usage.prompt() != direct.Usage.prompt() || routed.Model != "gpu/tiny" {
			t.Errorf("routed %+v\ndirect %+v", routed, direct)
		}
		text, stop, usage := anthropicStream(t, front.stream(t, "/v1/messages", messagesBody(map[string]any{"model": "gpu/tiny", "stream": true})))
		if text != direct.Content[0].Text || stop != direct.StopReason || usage.OutputTokens != direct.Usage.OutputTokens {
			t.Errorf("stream %q %s %+v, want %q %s %+v", text, stop, usage, direct.Content[0].Text, direct.StopReason, direct.Usage)
		}
		if ev := front.auditOf(t, "v1.messages"); ev.Backend != "gpu" || ev.CompletionTokens != direct.Usage.OutputTokens {
			t.Errorf("audit %+v", ev)
		}
	})
	t.Run("openai client, anthropic backend", func(t *testing.T) {
		var direct anthropicMessage
		back.call(t, "/v1/messages", messagesBody(map[string]any{"system": nil}), http.StatusOK, &direct)
		body := map[string]any{"model": "claude/tiny", "messages": userMsg("Hello there"), "max_tokens": 6, "temperature": 0}
		var routed chatResponse
		front.call(t, "/v1/chat/completions", body, http.StatusOK, &routed)
		wantFinish := map[string]string{"end_turn": "stop", "max_tokens": "length"}[direct.StopReason]
		if content(routed, 0) != direct.Content[0].Text || routed.Choices[0].FinishReason != wantFinish ||
			routed.Usage.CompletionTokens != direct.Usage.OutputTokens || routed.Model != "claude/tiny" {
			t.Errorf("routed %+v\ndirect %+v", routed, direct)
		}
		s := front.chatStream(t, map[string]any{"model": "claude/tiny", "max_tokens": 6, "logit_bias": nil,
			"stream_options": map[string]any{"include_usage": true}})
		last := s.chunks[len(s.chunks)-1]
		if s.content[0] != direct.Content[0].Text || s.finish[0] != wantFinish || last.Usage == nil ||
			last.Usage.CompletionTokens != direct.Usage.OutputTokens {
			t.Errorf("stream %q %s %+v, want %q", s.content[0], s.finish[0], last.Usage, direct.Content[0].Text)
		}
	})
	t.Run("errors keep the client's protocol", func(t *testing.T) {
		var a anthropicError
		front.JSON(t, "POST", "/v1/messages", front.key, messagesBody(map[string]any{"model": "gpu/tiny", "temperature": 7}), http.StatusBadRequest, &a)
		if a.Type != "error" || a.Error.Type != "invalid_request_error" || !strings.HasPrefix(a.Error.Message, "backend gpu: 400 ") {
			t.Errorf("anthropic error %+v", a)
		}
	})
	noKeyIn(t, back.key, front.DataDir, &log)
}

// anthropicStream checks a Messages stream's event order and returns its text,
// stop reason and usage.
func anthropicStream(t *testing.T, evs []sseEvent) (text, stop string, usage anthropicUsage) {
	t.Helper()
	var names []string
	for _, ev := range evs {
		var data struct {
			Type  string `json:"type"`
			Delta struct {
				Text       string `json:"text"`
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
			Usage anthropicUsage `json:"usage"`
		}
		ev.decode(t, &data)
		if data.Type != ev.Name {
			t.Errorf("event %s has type %s", ev.Name, data.Type)
		}
		names = append(names, ev.Name)
		switch ev.Name {
		case "content_block_delta":
			text += data.Delta.Text
		case "message_delta":
			stop, usage = data.Delta.StopReason, data.Usage
		}
	}
	got := strings.Join(names, " ")
	if !strings.HasPrefix(got, "message_start content_block_start content_block_delta") ||
		!strings.HasSuffix(got, "content_block_stop message_delta message_stop") {
		t.Errorf("events %s", got)
	}
	return text, stop, usage
}

// TestRouteFallback stops a backend mid-test: requests move to the next target,
// the breaker opens after repeated failures and closes once a probe succeeds.
func TestRouteFallback(t *testing.T) {
	back := start(t, envOptions{})
	flaky := start(t, envOptions{})
	front := start(t, envOptions{})
	front.addBackend(t, "flaky", "openai", flaky.URL+"/v1", flaky.key, nil)
	front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, nil)
	front.setRules(t, rule{Pattern: "m", Targets: []target{{Backend: "flaky", Model: tinyID}, {Backend: "gpu", Model: tinyID}}})
	body := map[string]any{"model": "m", "max_tokens": 3}

	front.chat(t, body)
	if ev := front.auditOf(t, "v1.chat.completions"); ev.Backend != "flaky" {
		t.Fatalf("first request served by %q", ev.Backend)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := flaky.API.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // DefaultFailures
		front.chat(t, body)
		if ev := front.auditOf(t, "v1.chat.completions"); ev.Backend != "gpu" || ev.Status != "success" {
			t.Fatalf("request %d after the stop: %+v", i, ev)
		}
	}
	if h := front.backends(t, false)["flaky"].Health; h.Healthy || h.Failures != 3 || !strings.Contains(h.LastError, "connection refused") {
		t.Fatalf("after 3 failures: %+v", h)
	}
	// Open: the stopped backend is not even tried, and a stream still starts at once.
	s := front.chatStream(t, body)
	if !s.done {
		t.Fatal("no stream")
	}
	if h := front.backends(t, false)["flaky"].Health; h.Failures != 3 {
		t.Errorf("an open breaker let a request through: %+v", h)
	}

	// The same daemon back on its address: a probe closes the breaker.
	ln, err := net.Listen("tcp", flaky.Addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", flaky.Addr, err)
	}
	srv := &http.Server{Handler: flaky.API.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if h := front.backends(t, true)["flaky"].Health; !h.Healthy || h.Failures != 0 {
		t.Fatalf("after a good probe: %+v", h)
	}
	front.chat(t, body)
	if ev := front.auditOf(t, "v1.chat.completions"); ev.Backend != "flaky" {
		t.Errorf("after the breaker closed, served by %q", ev.Backend)
	}

	// Every target down: a 502 naming each, in the client's protocol.
	front.setRules(t, rule{Pattern: "m", Targets: []target{{Backend: "flaky", Model: tinyID}}})
	srv.Close()
	e := front.Error(t, "POST", "/v1/chat/completions", front.key, chatBody(body), http.StatusBadGateway)
	if !strings.HasPrefix(e.Message, "backend flaky: ") || e.Type != "server_error" {
		t.Errorf("error %+v", e)
	}
}

// TestRouteAdmin: the backend API never shows a key, changes are audited, and a
// backend restricted to some users refuses the others.
func TestRouteAdmin(t *testing.T) {
	back := start(t, envOptions{})
	front := start(t, envOptions{})
	u, userTok := front.ApprovedUser(t, front.Login(t, "admin@example.com", "correct horse battery"), "dev@example.com")
	b := front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, map[string]any{"users": []string{u.ID}, "models": []string{"served/x"}})
	front.setRules(t, rule{Pattern: "remote/*", Targets: []target{{Backend: "gpu", Model: tinyID}}})

	resp := front.Do(t, "GET", "/api/backends", front.key, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(raw, []byte(back.key)) || bytes.Contains(raw, []byte(back.key[:len(back.key)-4])) {
		t.Fatalf("GET /api/backends shows the key: %s", raw)
	}
	// A change without api_key keeps the key.
	var changed backendView
	front.JSON(t, "PUT", "/api/backends/"+b.ID, front.key, map[string]any{"name": "gpu", "kind": "openai", "base_url": back.URL + "/v1/",
		"users": []string{u.ID}, "models": []string{"served/x"}}, http.StatusOK, &changed)
	if !changed.HasKey || changed.KeyLast4 != b.KeyLast4 || !changed.Health.Healthy {
		t.Errorf("after a change without a key: %+v", changed)
	}
	if ev := front.auditOf(t, "backend.update"); ev.Target != "gpu" || strings.Contains(ev.Detail, back.key) {
		t.Errorf("audit %+v", ev)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"bad kind", map[string]any{"name": "x", "kind": "grpc", "base_url": "http://h/v1"}},
		{"local", map[string]any{"name": "local", "kind": "openai", "base_url": "http://h/v1"}},
		{"credentials in the url", map[string]any{"name": "x", "kind": "openai", "base_url": "http://user:pw@h/v1"}},
		{"duplicate", map[string]any{"name": "gpu", "kind": "openai", "base_url": "http://h/v1"}},
	} {
		resp := front.Do(t, "POST", "/api/backends", front.key, tc.body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusConflict {
			t.Errorf("%s: status %d", tc.name, resp.StatusCode)
		}
	}
	e := front.Error(t, "PUT", "/api/settings/routing", front.key, map[string]any{"rules": []rule{{Pattern: "a", Targets: []target{{Backend: "nope"}}}}}, http.StatusBadRequest)
	if !strings.Contains(e.Message, `"nope"`) {
		t.Errorf("unknown target: %+v", e)
	}

	// The admin is not among the backend's users; dev is.
	e = front.Error(t, "POST", "/v1/chat/completions", front.key, chatBody(map[string]any{"model": "remote/tiny", "max_tokens": 2}), http.StatusForbidden)
	if e.Code == nil || *e.Code != "model_not_permitted" {
		t.Errorf("admin on a backend for dev: %+v", e)
	}
	var r chatResponse
	front.JSON(t, "POST", "/v1/chat/completions", userTok, chatBody(map[string]any{"model": "remote/tiny", "max_tokens": 2}), http.StatusOK, &r)
	if ev := front.auditOf(t, "v1.chat.completions"); ev.UserID != u.ID || ev.Backend != "gpu" || ev.CompletionTokens != r.Usage.CompletionTokens {
		t.Errorf("audit %+v", ev)
	}
	listed := func(tok string) bool {
		var models struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		front.JSON(t, "GET", "/v1/models", tok, nil, http.StatusOK, &models)
		for _, m := range models.Data {
			if m.ID == "served/x" {
				return true
			}
		}
		return false
	}
	if listed(front.key) || !listed(userTok) {
		t.Error("/v1/models shows a backend's models to the wrong users")
	}
	// Naming the admin's API key lets requests made with that key through.
	var keys []struct {
		ID string `json:"id"`
	}
	front.JSON(t, "GET", "/api/auth/api-keys", front.key, nil, http.StatusOK, &keys)
	front.JSON(t, "PUT", "/api/backends/"+b.ID, front.key, map[string]any{"name": "gpu", "kind": "openai", "base_url": back.URL + "/v1",
		"users": []string{u.ID, keys[0].ID}, "models": []string{"served/x"}}, http.StatusOK, nil)
	front.JSON(t, "POST", "/v1/chat/completions", front.key, chatBody(map[string]any{"model": "remote/tiny", "max_tokens": 2}), http.StatusOK, nil)
	if !listed(front.key) {
		t.Error("/v1/models hides the backend from a key it names")
	}
	type usage struct {
		Requests         int `json:"requests"`
		CompletionTokens int `json:"completion_tokens"`
	}
	var stats struct {
		ByUser    map[string]usage `json:"tokens_by_user"`
		ByBackend map[string]usage `json:"tokens_by_backend"`
	}
	front.JSON(t, "GET", "/api/system/audit-logs/stats?action=v1", front.key, nil, http.StatusOK, &stats)
	if g, d := stats.ByBackend["gpu"], stats.ByUser["dev@example.com"]; g.Requests != 2 || g.CompletionTokens != 4 || d.Requests != 1 || d.CompletionTokens != 2 {
		t.Errorf("token sums %+v", stats)
	}
	front.JSON(t, "DELETE", "/api/backends/"+b.ID, front.key, nil, http.StatusNoContent, nil)
	if ev := front.auditOf(t, "backend.delete"); ev.Target != "gpu" {
		t.Errorf("audit %+v", ev)
	}
}

// TestRouteStreamCut stops the backend while a routed stream runs: the client's
// stream ends with an error event (never a retry: bytes had reached it) and the
// audit records the failure.
func TestRouteStreamCut(t *testing.T) {
	back := start(t, envOptions{})
	front := start(t, envOptions{})
	front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, nil)
	front.setRules(t, rule{Pattern: "m", Targets: []target{{Backend: "gpu", Model: tinyID}}})
	back.gate.slow(20 * time.Millisecond) // 200 tokens: 4 s, far longer than the test

	body := chatBody(map[string]any{"model": "m", "max_tokens": 200, "stream": true})
	resp := front.post(t, "/v1/chat/completions", body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := newSSEReader(resp.Body)
	if _, ok := r.next(); !ok {
		t.Fatal("no first event")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := back.API.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var last sseEvent
	for {
		ev, ok := r.next()
		if !ok {
			break
		}
		last = ev
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if last.decode(t, &e); !strings.Contains(e.Error.Message, "shutting down") {
		t.Errorf("last event %q, want the backend's shutdown error", last.Data)
	}
	if ev := front.auditOf(t, "v1.chat.completions"); ev.Status != "error" || ev.Backend != "gpu" || !strings.Contains(ev.ErrorMessage, "shutting down") {
		t.Errorf("audit %+v", ev)
	}
}

// TestRouteTokenQuota: tokens a backend reports count against the front's token
// quotas like local ones; over the quota the front refuses before any backend.
func TestRouteTokenQuota(t *testing.T) {
	back := start(t, envOptions{})
	front := start(t, envOptions{})
	front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, nil)
	front.setRules(t, rule{Pattern: "m", Targets: []target{{Backend: "gpu", Model: tinyID}}})
	admin := front.Login(t, "admin@example.com", "correct horse battery")
	front.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"quota_key_tokens_per_day": 40}, http.StatusOK, nil)
	used := 0
	for used < 40 {
		used += front.chat(t, map[string]any{"model": "m", "max_tokens": 8}).Usage.TotalTokens
	}
	e := front.Error(t, "POST", "/v1/chat/completions", front.key, chatBody(map[string]any{"model": "m", "max_tokens": 2}), http.StatusTooManyRequests)
	if e.Code == nil || *e.Code != "quota_exceeded" {
		t.Errorf("over the quota: %+v", e)
	}
	if ev := front.auditOf(t, "v1.chat.completions"); ev.Backend != "" || ev.HTTPStatus != http.StatusTooManyRequests {
		t.Errorf("the refused request reached a backend: %+v", ev)
	}
}
