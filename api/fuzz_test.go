package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// bodyRoute is a route that decodes a JSON body; {victim} and {profile} are
// filled with ids that exist.
type bodyRoute struct{ method, path string }

var bodyRoutes = []bodyRoute{
	{"POST", "/api/auth/register"},
	{"POST", "/api/auth/login"},
	{"POST", "/api/auth/api-keys"},
	{"PUT", "/api/auth/users/{victim}"},
	{"POST", "/api/auth/users/{victim}/reset-password"},
	{"PUT", "/api/settings/auth"},
	{"PUT", "/api/settings/audit"},
	{"PUT", "/api/settings/hub"},
	{"PUT", "/api/settings/pool"},
	{"POST", "/api/models/download"},
	{"POST", "/api/servers/start"},
	{"POST", "/api/servers/stop"},
	{"POST", "/api/profiles"},
	{"PUT", "/api/profiles/{profile}"},
}

// fuzzEnv is a server with an engine over one tiny model, called in-process.
type fuzzEnv struct {
	s       *Server
	token   string
	victim  string
	profile string
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	root := tb.TempDir()
	snap := filepath.Join(root, "models--test--tiny", "snapshots", "0123456789abcdef0123456789abcdef01234567")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := modeltest.Write(snap, modeltest.Spec{Seed: 3}); err != nil {
		tb.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "models--test--tiny", "refs"), 0o755)
	os.WriteFile(filepath.Join(root, "models--test--tiny", "refs", "main"), []byte("0123456789abcdef0123456789abcdef01234567"), 0o644)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := engine.New(engine.Options{ModelsDir: root, Logger: quiet, Pool: pool.Config{BudgetBytes: -1, Logger: quiet},
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 1, Logger: quiet})
		}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	clock := storetest.NewClock()
	st := storetest.OpenDir(tb, tb.TempDir(), store.Options{Now: clock.Now})
	params := auth.TestParams
	s, err := New(Options{Addr: "127.0.0.1:0", Store: st, Now: clock.Now, PasswordParams: &params, Engine: eng, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.closeStreams)
	hash, _ := s.auth.hasher.Hash(context.Background(), "password1")
	a, err := st.Users().Create("admin@example.com", hash) // the first user is the admin
	if err != nil {
		tb.Fatal(err)
	}
	v, err := st.Users().Create("victim@example.com", hash)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := st.Profiles().Create(store.Profile{Name: "fuzz", Model: "test/tiny"})
	if err != nil {
		tb.Fatal(err)
	}
	tok, _, _ := s.auth.tokens.Issue(a.ID, a.TokenGen)
	return &fuzzEnv{s: s, token: tok, victim: v.ID, profile: p.ID}
}

func (e *fuzzEnv) serve(r bodyRoute, body []byte) *httptest.ResponseRecorder {
	path := strings.NewReplacer("{victim}", e.victim, "{profile}", e.profile).Replace(r.path)
	req := httptest.NewRequest(r.method, "http://127.0.0.1"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.token)
	w := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(w, req)
	return w
}

// FuzzAPIBodies sends arbitrary bodies to every /api route that decodes one:
// whatever the body, the answer is a success or a 4xx (or the 503 of a part that
// is absent here, like the download manager), never a panic or a 500.
func FuzzAPIBodies(f *testing.F) {
	seeds := map[string][]string{
		"/api/auth/register":                      {`{"email":"a@b.co","password":"password123"}`},
		"/api/auth/login":                         {`{"email":"admin@example.com","password":"password1"}`, `{"username":"x"}`},
		"/api/auth/api-keys":                      {`{"name":"ci"}`, `{"name":""}`},
		"/api/auth/users/{victim}":                {`{"status":"approved"}`, `{"is_admin":true}`, `{"status":"nope"}`},
		"/api/auth/users/{victim}/reset-password": {`{"password":"another password"}`},
		"/api/settings/auth":                      {`{"allow_unauthenticated_loopback":true}`},
		"/api/settings/audit":                     {`{"retention_days":30}`, `{"retention_days":-1}`},
		"/api/settings/hub":                       {`{"token":"hf_abc"}`, `{"token":""}`},
		"/api/settings/pool":                      {`{"budget":"50%","max_models":2}`, `{"budget":1e300}`},
		"/api/models/download":                    {`{"repo_id":"org/name"}`},
		"/api/servers/start":                      {`{"model":"test/tiny","ttl_seconds":60}`, `{"profile_id":"x","model":"y"}`},
		"/api/servers/stop":                       {`{"model":"test/tiny","wait":true}`},
		"/api/profiles":                           {`{"name":"p","model":"test/tiny","temperature":0.5,"max_tokens":8}`, `{"name":"q","model":"test/tiny","context_length":-1}`},
		"/api/profiles/{profile}":                 {`{"name":"p2","model":"test/tiny","top_p":0}`},
	}
	for i, r := range bodyRoutes {
		for _, s := range seeds[r.path] {
			f.Add(uint8(i), []byte(s))
		}
		f.Add(uint8(i), []byte(`{"a":`))
		f.Add(uint8(i), []byte(`[]`))
		f.Add(uint8(i), []byte(`{"name":"\u0000\ud800"}`))
	}
	env := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := bodyRoutes[int(route)%len(bodyRoutes)]
		w := env.serve(r, body)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q: %d %s", r.method, r.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var env map[string]errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env["error"].Message == "" {
				t.Fatalf("%s %s: %d with a body that is not an error envelope: %s", r.method, r.path, w.Code, w.Body)
			}
		}
	})
}

// FuzzSSEEvent writes arbitrary content as a stream event and parses it back as
// an EventSource would: exactly one event, named as sent, whose data decodes to
// the content. A newline or carriage return in model output must never start a
// new event.
func FuzzSSEEvent(f *testing.F) {
	for _, s := range []string{"hello", "a\nb", "a\r\nb", "x\rdata: injected", "\n\nevent: evil\ndata: 1\n\n", "\xff\xfe", "\u2028"} {
		f.Add("", s)
		f.Add("model", s)
	}
	st, err := store.Open(f.TempDir(), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	s, err := New(Options{Addr: "127.0.0.1:0", Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, content string) {
		if strings.ContainsAny(name, "\r\n") {
			return // names are constants in our code
		}
		w := httptest.NewRecorder()
		c := s.echo.NewContext(httptest.NewRequest("GET", "/", nil), w)
		st := s.newSSE(c)
		err := st.send(name, map[string]string{"content": content})
		st.close()
		if err != nil {
			t.Fatal(err)
		}
		events := parseSSE(w.Body.String())
		if len(events) != 1 {
			t.Fatalf("%d events from %q", len(events), w.Body.String())
		}
		if events[0].name != name {
			t.Fatalf("event name %q, want %q", events[0].name, name)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(events[0].data), &got); err != nil {
			t.Fatalf("data %q: %v", events[0].data, err)
		}
		if want := validUTF8(content); got["content"] != want {
			t.Fatalf("content %q, want %q", got["content"], want)
		}
	})
}

// validUTF8 is s with each invalid byte replaced by U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields U+FFFD for each invalid byte
	}
	return b.String()
}

type sseEvent struct{ name, data string }

// parseSSE follows the EventSource parsing rules: lines end in \r\n, \r or \n; a
// blank line dispatches; comments start with ':'.
func parseSSE(s string) []sseEvent {
	var (
		out       []sseEvent
		name      string
		data      []string
		dispatchq bool
	)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for _, line := range strings.Split(s, "\n") {
		switch {
		case line == "":
			if dispatchq {
				out = append(out, sseEvent{name, strings.Join(data, "\n")})
			}
			name, data, dispatchq = "", nil, false
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				name = value
			case "data":
				data, dispatchq = append(data, value), true
			}
		}
	}
	return out
}

// FuzzAuditWSMessage sends arbitrary client messages on the audit WebSocket. The
// stream takes no client messages: the server closes with a policy violation,
// and the next watcher is served as before.
func FuzzAuditWSMessage(f *testing.F) {
	for _, s := range []string{"", "ping", `{"type":"subscribe"}`, "\x00\xff", strings.Repeat("a", 70000)} {
		f.Add(s, false)
		f.Add(s, true)
	}
	env := newFuzzEnv(f)
	ts := httptest.NewServer(env.s.Handler())
	f.Cleanup(func() {
		env.s.closeStreams()
		ts.Close()
	})
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/system/ws/audit-logs"
	f.Fuzz(func(t *testing.T, msg string, binary bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + env.token}}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		if _, _, err := conn.Read(ctx); err != nil { // the snapshot
			t.Fatalf("snapshot: %v", err)
		}
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		if err := conn.Write(ctx, typ, []byte(msg)); err != nil {
			return // the server may already have closed
		}
		for {
			_, _, err := conn.Read(ctx)
			if err == nil {
				continue // an event written before the server saw the message
			}
			if code := websocket.CloseStatus(err); code != websocket.StatusPolicyViolation && code != websocket.StatusMessageTooBig {
				t.Fatalf("after a client message: %v (close code %d)", err, code)
			}
			break
		}
		// The server still serves watchers.
		probe, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + env.token}}})
		if err != nil {
			t.Fatal(err)
		}
		defer probe.CloseNow()
		if _, _, err := probe.Read(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("next watcher: %v", err)
		}
	})
}
