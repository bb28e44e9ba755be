package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// v1Env is a real server with stand-in /v1 handlers that use the audit record the
// way the engine's handlers do, so the /v1 middleware is tested end to end.
type v1Env struct {
	s      *Server
	st     *store.Store
	clock  *storetest.Clock
	url    string
	key    string // an API key of the admin
	token  string // a session token of the admin
	userID string
	keyID  string
}

// startV1 starts a server with the test routes; configure, if given, adjusts its options.
func startV1(t *testing.T, configure ...func(*Options)) *v1Env {
	t.Helper()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	params := auth.TestParams
	opts := Options{Addr: "127.0.0.1:0", Store: st, Now: clock.Now, PasswordParams: &params,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range configure {
		c(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	env := &v1Env{s: s, st: st, clock: clock}
	s.echo.POST("/v1/chat/completions", env.handleChat, s.v1Chain()...)
	s.echo.GET("/v1/models/:id", func(c echo.Context) error {
		return Errorf(http.StatusServiceUnavailable, "model %s is loading", c.Param("id"))
	}, s.v1Chain()...)
	s.echo.GET("/v1/panic", func(echo.Context) error { panic("boom") }, s.v1Chain()...)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	env.url = ts.URL

	hash, _ := s.auth.hasher.Hash(context.Background(), "password1")
	u, err := st.Users().Create("admin@example.com", hash)
	if err != nil {
		t.Fatal(err)
	}
	env.userID = u.ID
	key, kh, prefix, _ := auth.NewAPIKey()
	k, err := st.APIKeys().Create(u.ID, "test", prefix, kh)
	if err != nil {
		t.Fatal(err)
	}
	env.key, env.keyID = key, k.ID
	env.token, _, _ = s.auth.tokens.Issue(u.ID, u.TokenGen)
	return env
}

type chatRequest struct {
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	Tokens    int    `json:"tokens"`
	FailAfter int    `json:"fail_after"` // stream: fail after this many tokens (0 = never)
	Hang      bool   `json:"hang"`       // stream: after one token wait for the client to leave
}

// handleChat stands in for the engine's chat handler: it fills the audit record
// with the model and token counts and marks the first token.
func (env *v1Env) handleChat(c echo.Context) error {
	var req chatRequest
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return BadParam("", "bad body: %v", err)
	}
	rec := auditRecord(c)
	rec.Model, rec.PromptTokens = req.Model, 3
	env.clock.Advance(5 * time.Millisecond) // prefill
	if !req.Stream {
		markFirstToken(c)
		rec.CompletionTokens = req.Tokens
		return c.JSON(http.StatusOK, map[string]string{"content": strings.Repeat("x", req.Tokens)})
	}
	c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
	c.Response().WriteHeader(http.StatusOK)
	for i := 0; i < req.Tokens; i++ {
		if req.FailAfter > 0 && i == req.FailAfter {
			rec.ErrorType, rec.ErrorMessage = "server_error", "executor failed"
			c.Response().Write([]byte("data: {\"error\":\"executor failed\"}\n\n"))
			return nil
		}
		markFirstToken(c)
		rec.CompletionTokens++
		c.Response().Write([]byte("data: {\"token\":\"x\"}\n\n"))
		c.Response().Flush()
		if req.Hang {
			<-c.Request().Context().Done()
			return c.Request().Context().Err()
		}
	}
	c.Response().Write([]byte("data: [DONE]\n\n"))
	return nil
}

func (env *v1Env) do(t *testing.T, method, path, cred string, body any) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, env.url+path, r)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// lastEvent waits until an audit event with action is committed and returns it.
func (env *v1Env) nextEvent(t *testing.T, sub *auditSub) store.AuditEvent {
	t.Helper()
	select {
	case ev := <-sub.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no audit event written")
		return store.AuditEvent{}
	}
}

func TestV1AuthAndAudit(t *testing.T) {
	env := startV1(t)
	sub := env.s.audits.subscribe()
	defer env.s.audits.unsubscribe(sub)
	chat := chatRequest{Model: "tiny", Tokens: 4}

	t.Run("no credentials", func(t *testing.T) {
		resp, body := env.do(t, "POST", "/v1/chat/completions", "", chat)
		if resp.StatusCode != 401 || !strings.Contains(body, `"type":"authentication_error"`) {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		ev := env.nextEvent(t, sub)
		if ev.Action != "v1.chat.completions" || ev.Status != store.AuditError || ev.HTTPStatus != 401 ||
			ev.UserID != "" || ev.ErrorType != "authentication_error" || ev.Endpoint != "POST /v1/chat/completions" {
			t.Fatalf("refused request recorded as %+v", ev)
		}
	})
	t.Run("api key", func(t *testing.T) {
		resp, body := env.do(t, "POST", "/v1/chat/completions", env.key, chat)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		ev := env.nextEvent(t, sub)
		want := store.AuditEvent{
			ID: ev.ID, Time: ev.Time, RequestID: resp.Header.Get("X-Request-ID"), Action: "v1.chat.completions",
			Status: store.AuditSuccess, UserID: env.userID, UserEmail: "admin@example.com", APIKeyID: env.keyID,
			ClientIP: "127.0.0.1", Model: "tiny", Endpoint: "POST /v1/chat/completions", HTTPStatus: 200,
			DurationMS: 5, TTFTMS: 5, PromptTokens: 3, CompletionTokens: 4,
		}
		if ev != want {
			t.Fatalf("event %+v\nwant  %+v", ev, want)
		}
	})
	t.Run("session token", func(t *testing.T) {
		if resp, body := env.do(t, "POST", "/v1/chat/completions", env.token, chat); resp.StatusCode != 200 {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		if ev := env.nextEvent(t, sub); ev.UserID != env.userID || ev.APIKeyID != "" {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("query token ignored", func(t *testing.T) {
		if resp, _ := env.do(t, "POST", "/v1/chat/completions?token="+env.token, "", chat); resp.StatusCode != 401 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		env.nextEvent(t, sub)
	})
	t.Run("handler error", func(t *testing.T) {
		resp, body := env.do(t, "GET", "/v1/models/big", env.key, nil)
		if resp.StatusCode != 503 || !strings.Contains(body, "model big is loading") {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		ev := env.nextEvent(t, sub)
		if ev.Action != "v1.models" || ev.Status != store.AuditError || ev.HTTPStatus != 503 ||
			ev.ErrorType != "overloaded_error" || ev.ErrorMessage != "model big is loading" {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("panic", func(t *testing.T) {
		if resp, _ := env.do(t, "GET", "/v1/panic", env.key, nil); resp.StatusCode != 500 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if ev := env.nextEvent(t, sub); ev.Action != "v1.panic" || ev.HTTPStatus != 500 || ev.Status != store.AuditError {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestV1StreamAudit(t *testing.T) {
	env := startV1(t)
	sub := env.s.audits.subscribe()
	defer env.s.audits.unsubscribe(sub)

	t.Run("complete", func(t *testing.T) {
		resp, body := env.do(t, "POST", "/v1/chat/completions", env.key, chatRequest{Model: "tiny", Stream: true, Tokens: 6})
		if resp.StatusCode != 200 || strings.Count(body, "data: ") != 7 {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
		ev := env.nextEvent(t, sub)
		if ev.Status != store.AuditSuccess || ev.CompletionTokens != 6 || ev.TTFTMS != 5 {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("fails mid-stream", func(t *testing.T) {
		env.do(t, "POST", "/v1/chat/completions", env.key, chatRequest{Model: "tiny", Stream: true, Tokens: 6, FailAfter: 2})
		ev := env.nextEvent(t, sub)
		if ev.Status != store.AuditError || ev.HTTPStatus != 200 || ev.CompletionTokens != 2 || ev.ErrorMessage != "executor failed" {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("client disconnects", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		b, _ := json.Marshal(chatRequest{Model: "tiny", Stream: true, Tokens: 6, Hang: true})
		req, _ := http.NewRequestWithContext(ctx, "POST", env.url+"/v1/chat/completions", strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+env.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("first line %q", line)
		}
		cancel() // the client goes away mid-stream
		resp.Body.Close()
		ev := env.nextEvent(t, sub)
		if ev.Status != store.AuditCancelled || ev.CompletionTokens != 1 || ev.HTTPStatus != 200 || ev.ErrorType != "cancelled" {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestV1UnauthenticatedLoopback(t *testing.T) {
	env := startV1(t)
	chat := chatRequest{Model: "tiny", Tokens: 1}
	if resp, _ := env.do(t, "POST", "/v1/chat/completions", "", chat); resp.StatusCode != 401 {
		t.Fatalf("off by default: status %d", resp.StatusCode)
	}
	if err := env.st.Settings().Put(authSettingsDocument, authSettings{AllowUnauthenticatedLoopback: true}); err != nil {
		t.Fatal(err)
	}
	env.st.Audit().Flush() // the refusal's event is out before the watcher starts
	sub := env.s.audits.subscribe()
	defer env.s.audits.unsubscribe(sub)
	if resp, body := env.do(t, "POST", "/v1/chat/completions", "", chat); resp.StatusCode != 200 {
		t.Fatalf("loopback without credentials: status %d %s", resp.StatusCode, body)
	}
	if ev := env.nextEvent(t, sub); ev.UserID != "" || ev.Status != store.AuditSuccess {
		t.Fatalf("anonymous event %+v", ev)
	}
	// A wrong credential is still refused, and /api is unaffected.
	if resp, _ := env.do(t, "POST", "/v1/chat/completions", "mlxm-wrong", chat); resp.StatusCode != 401 {
		t.Fatalf("bad key with the setting on: status %d", resp.StatusCode)
	}
	if resp, _ := env.do(t, "GET", "/api/auth/me", "", nil); resp.StatusCode != 401 {
		t.Fatalf("/api without credentials: status %d", resp.StatusCode)
	}
	// A client that is not on loopback still needs a credential.
	b, _ := json.Marshal(chat)
	req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(string(b)))
	req.Host, req.RemoteAddr = "127.0.0.1", "192.0.2.7:40000"
	w := httptest.NewRecorder()
	env.s.Handler().ServeHTTP(w, req)
	if w.Code != 401 {
		t.Fatalf("remote client without credentials: status %d", w.Code)
	}
}

func TestV1Action(t *testing.T) {
	for route, want := range map[string]string{
		"/v1/chat/completions": "v1.chat.completions",
		"/v1/embeddings":       "v1.embeddings",
		"/v1/models/:id":       "v1.models",
		"/v1/*":                "v1",
		"":                     "v1",
		"/api/chat":            "ollama.chat", // Ollama's API runs on the /v1 chain
		"/api/pull":            "ollama.pull",
	} {
		if got := v1Action(route); got != want {
			t.Errorf("v1Action(%q) = %q, want %q", route, got, want)
		}
	}
}

func TestAuditHubDropsSlowWatchers(t *testing.T) {
	h := newAuditHub()
	slow, fast := h.subscribe(), h.subscribe()
	for i := range auditSubBuffer + 10 {
		h.publish(store.AuditEvent{ID: string(rune('a' + i%26))}) // must never block
		<-fast.events
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("a watcher that never reads was not dropped")
	}
	select {
	case <-fast.gone:
		t.Fatal("a watcher that keeps up was dropped")
	default:
	}
	h.unsubscribe(fast)
	if len(h.subs) != 0 {
		t.Fatalf("%d watchers left", len(h.subs))
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+x": "'+x", "-2": "'-2", "@a": "'@a", "plain": "plain", "": "",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
