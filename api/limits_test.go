package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine/safetensors"
	"github.com/mlx-manager/mlx-manager/store"
)

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// onlyReader hides a reader's type, so the request has no Content-Length and is
// sent chunked.
type onlyReader struct{ io.Reader }

func TestBodyLimits(t *testing.T) {
	env := startV1(t)
	big := func(n int) string { return `{"name":"` + strings.Repeat("a", n) + `"}` }
	cases := []struct {
		name, path string
		body       io.Reader
		want       int
	}{
		{"api body over 64 KiB", "/api/auth/login", strings.NewReader(big(maxAuthBody)), http.StatusRequestEntityTooLarge},
		{"api body over 64 KiB, chunked", "/api/auth/api-keys", onlyReader{strings.NewReader(big(maxAuthBody))}, http.StatusRequestEntityTooLarge},
		{"api body at the cap", "/api/auth/api-keys", strings.NewReader(big(maxAuthBody - 20)), http.StatusUnprocessableEntity},
		{"v1 body over 4 MiB", "/v1/chat/completions", strings.NewReader(big(maxV1Body)), http.StatusRequestEntityTooLarge},
		{"v1 body over 4 MiB, chunked", "/v1/chat/completions", onlyReader{strings.NewReader(big(maxV1Body))}, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", env.url+tc.path, tc.body)
			req.Header.Set("Authorization", "Bearer "+env.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		})
	}
}

func TestRequestTimeouts(t *testing.T) {
	routes := map[string]bool{}
	for _, r := range newTestServer(t).echo.Routes() {
		routes[r.Path] = true
	}
	for route := range unboundedRoutes {
		if !routes[route] {
			t.Errorf("unbounded route %s is not a route: keep the table in step with routes.go", route)
		}
		if d := requestTimeout(route, time.Minute); d != 0 {
			t.Errorf("stream %s gets a %v timeout", route, d)
		}
	}
	for route := range slowRoutes {
		if !routes[route] {
			t.Errorf("slow route %s is not a route", route)
		}
	}
	for route, want := range map[string]time.Duration{
		"/api/auth/me":         time.Minute, // the limit of ordinary calls given
		"/api/servers/start":   modelLoadTime,
		"/v1/chat/completions": 0, // tied to the client
		"/health":              0,
	} {
		if got := requestTimeout(route, time.Minute); got != want {
			t.Errorf("timeout of %s = %v, want %v", route, got, want)
		}
	}

	t.Run("a stuck call is stopped", func(t *testing.T) {
		env := startV1(t, func(o *Options) { o.Timing.Request = 50 * time.Millisecond })
		env.s.echo.GET("/api/test/stuck", func(c echo.Context) error {
			<-c.Request().Context().Done()
			return c.Request().Context().Err()
		}, env.s.requireUser)
		resp, body := env.do(t, "GET", "/api/test/stuck", env.token, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"timeout"`) {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestBodyReadDeadline(t *testing.T) {
	const bodyReadTimeout = 100 * time.Millisecond
	env := startV1(t, func(o *Options) { o.Timing.BodyRead = bodyReadTimeout })
	// A handler that streams for longer than the body deadline after reading its
	// body must keep its client: the deadline is lifted once the body is read.
	env.s.echo.POST("/api/test/long", func(c echo.Context) error {
		if _, err := readBody(c); err != nil {
			return err
		}
		select {
		case <-time.After(5 * bodyReadTimeout):
			return c.String(http.StatusOK, "done")
		case <-c.Request().Context().Done():
			return c.Request().Context().Err()
		}
	}, env.s.requireUser)

	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(env.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Promise 100 bytes, send 10, then nothing.
		io.WriteString(conn, "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		status, err := io.ReadAll(io.LimitReader(conn, 12))
		if err != nil || !strings.HasPrefix(string(status), "HTTP/1.1 400") {
			t.Fatalf("answer %q (%v), want a 400 once the body deadline passed", status, err)
		}
	})
	t.Run("long answer after the body", func(t *testing.T) {
		resp, body := env.do(t, "POST", "/api/test/long", env.token, map[string]string{"x": "y"})
		if resp.StatusCode != http.StatusOK || body != "done" {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestPanicIsRecoveredLoggedAndAudited(t *testing.T) {
	env := startV1(t)
	logs := &syncBuffer{}
	env.s.log = slog.New(slog.NewTextHandler(logs, nil))
	env.s.echo.GET("/api/test/panic", func(echo.Context) error { panic("boom") }, env.s.requireUser)
	sub := env.s.audits.subscribe()
	defer env.s.audits.unsubscribe(sub)

	req, _ := http.NewRequest("GET", env.url+"/api/test/panic", nil)
	req.Header.Set("Authorization", "Bearer "+env.token)
	req.Header.Set(headerRequestID, "panic-req-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"internal error"`) || strings.Contains(string(body), "boom") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	ev := env.nextEvent(t, sub)
	if ev.Action != "server.panic" || ev.Status != store.AuditError || ev.HTTPStatus != 500 || ev.RequestID != "panic-req-1" ||
		ev.UserID != env.userID || ev.Endpoint != "GET /api/test/panic" {
		t.Fatalf("audit event %+v", ev)
	}
	if l := logs.String(); !strings.Contains(l, "handler panic") || !strings.Contains(l, "request_id=panic-req-1") || !strings.Contains(l, "boom") {
		t.Fatalf("log:\n%s", l)
	}
	if n := env.s.metrics.panics.With().Value(); n != 1 {
		t.Errorf("panics counted %v, want 1", n)
	}
	// The server is still there.
	if resp, _ := env.do(t, "GET", "/health", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("health after a panic: %d", resp.StatusCode)
	}

	t.Run("v1 panic is audited once", func(t *testing.T) {
		resp, _ := env.do(t, "GET", "/v1/panic", env.key, nil)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if ev := env.nextEvent(t, sub); ev.Action != "v1.panic" || ev.HTTPStatus != 500 {
			t.Fatalf("audit event %+v", ev)
		}
		select {
		case ev := <-sub.events:
			t.Fatalf("a second event for one panic: %+v", ev)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// TestTimeoutKeepsClientContext checks that what runs after limitRequest sees the
// client's context, not the timeout's, which limitRequest cancels on the way out.
func TestTimeoutKeepsClientContext(t *testing.T) {
	s := newTestServer(t)
	var after error
	h := s.limitRequest(func(c echo.Context) error { return nil })
	e := echo.New()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "/api/auth/me", nil)
	c := e.NewContext(req, nil)
	c.SetPath("/api/auth/me")
	if err := h(c); err != nil {
		t.Fatal(err)
	}
	after = c.Request().Context().Err()
	if after != nil {
		t.Fatalf("context after the handler: %v", after)
	}
}

func TestDamagedModel(t *testing.T) {
	damaged := fmt.Errorf("load org/m: open model: %w", safetensors.ErrInvalid)
	if e := toError(damaged); e.Status != http.StatusUnprocessableEntity || e.Code != "model_damaged" ||
		!strings.Contains(e.Message, "download it again") {
		t.Errorf("damaged weights: %+v", e)
	}
	mapped := &Error{Status: http.StatusBadRequest, Err: damaged}
	if got := toError(mapped); got != mapped {
		t.Errorf("an error a handler mapped was changed: %v", got)
	}
	if got := toError(errors.New("disk on fire")); got.Status != http.StatusInternalServerError {
		t.Errorf("an unrelated error became %d", got.Status)
	}
}

// Finding 7 of issue #27: 300 cancelled requests wrote 300 ERROR lines. A client
// that went away is logged at DEBUG; a real failure stays an ERROR.
func TestClientDisconnectLoggedAtDebug(t *testing.T) {
	env := startV1(t)
	logs := &syncBuffer{}
	env.s.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/v1/chat/completions", nil).WithContext(ctx)
	env.s.handleError(fmt.Errorf("generate: %w", context.Canceled), env.s.echo.NewContext(req, httptest.NewRecorder()))
	if out := logs.String(); strings.Contains(out, "level=ERROR") || !strings.Contains(out, "level=DEBUG msg=\"client disconnected\"") {
		t.Fatalf("cancelled request logged as:\n%s", out)
	}

	// context.Canceled while the client is still there is a server-side fault.
	logs = &syncBuffer{}
	env.s.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	req = httptest.NewRequest("POST", "/v1/chat/completions", nil)
	env.s.handleError(fmt.Errorf("load: %w", context.Canceled), env.s.echo.NewContext(req, httptest.NewRecorder()))
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("server-side cancel logged as:\n%s", logs.String())
	}
}
