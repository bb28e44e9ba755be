package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// access is who may call a route.
type access int

const (
	public     access = iota // anyone on an allowed Host
	user                     // a session token or API key in the Authorization header
	admin                    // user, and an administrator
	queryToken               // user, or ?token= (EventSource and WebSocket routes)
	v1                       // /v1: Authorization header, or nobody from loopback when allowed
	scrape                   // /metrics: an administrator or an API key
	v1Admin                  // v1, and an administrator (Ollama's errors carry no code: the status tells)
)

// routeAccess classifies every route of routes.go. TestRouteAccess fails on a
// route missing here, so a new route cannot ship without a decision.
var routeAccess = map[string]access{
	"GET /health": public, "HEAD /health": public, "GET /health/ready": public,
	"GET /*": public, "HEAD /*": public,
	// Unknown /api and /v1 paths: a JSON 404 (or 405) for anyone.
	"echo_route_not_found /api": public, "echo_route_not_found /api/*": public,
	"echo_route_not_found /v1": public, "echo_route_not_found /v1/*": public,
	"GET /metrics":                               scrape,
	"GET /api/openapi.json":                      public,
	"POST /api/auth/register":                    public,
	"POST /api/auth/login":                       public,
	"GET /api/auth/me":                           user,
	"POST /api/auth/api-keys":                    user,
	"GET /api/auth/api-keys":                     user,
	"DELETE /api/auth/api-keys/:id":              user,
	"GET /api/auth/users":                        admin,
	"GET /api/auth/users/pending/count":          admin,
	"PUT /api/auth/users/:id":                    admin,
	"DELETE /api/auth/users/:id":                 admin,
	"POST /api/auth/users/:id/reset-password":    admin,
	"GET /api/auth/lockouts":                     admin,
	"DELETE /api/auth/users/:id/lockouts":        admin,
	"POST /api/auth/invites":                     admin,
	"GET /api/auth/invites":                      admin,
	"DELETE /api/auth/invites/:id":               admin,
	"GET /api/system/audit-logs":                 user,
	"GET /api/system/audit-logs/stats":           user,
	"GET /api/system/audit-logs/export":          user,
	"GET /api/system/ws/audit-logs":              queryToken,
	"GET /api/settings/auth":                     admin,
	"PUT /api/settings/auth":                     admin,
	"GET /api/settings/audit":                    admin,
	"PUT /api/settings/audit":                    admin,
	"GET /api/models/search":                     user,
	"GET /api/models/local":                      user,
	"GET /api/models/config/:org/:name":          user,
	"DELETE /api/models/:org/:name":              admin,
	"POST /api/models/local":                     admin,
	"POST /api/models/download":                  user,
	"GET /api/models/downloads":                  user,
	"DELETE /api/models/downloads":               user,
	"GET /api/models/download/:task_id/progress": queryToken,
	"POST /api/models/download/:id/pause":        user,
	"POST /api/models/download/:id/resume":       user,
	"POST /api/models/download/:id/cancel":       user,
	"GET /api/settings/hub":                      admin,
	"PUT /api/settings/hub":                      admin,
	"GET /api/settings/images":                   admin,
	"PUT /api/settings/images":                   admin,
	"GET /api/servers":                           user,
	"GET /api/servers/models":                    user,
	"GET /api/servers/memory":                    user,
	"GET /api/servers/events":                    queryToken,
	"POST /api/servers/start":                    admin, // by default: setting users_control_servers
	"POST /api/servers/stop":                     admin, // by default: setting users_control_servers
	"POST /api/servers/:org/:name/pin":           admin, // by default: setting users_control_servers
	"POST /api/servers/:org/:name/unpin":         admin, // by default: setting users_control_servers
	"GET /api/settings/pool":                     admin,
	"PUT /api/settings/pool":                     admin,
	"GET /api/profiles":                          user,
	"POST /api/profiles":                         user,
	"GET /api/profiles/:id":                      user,
	"PUT /api/profiles/:id":                      user,
	"DELETE /api/profiles/:id":                   user,
	"POST /api/profiles/:id/duplicate":           user,
	"GET /v1/models":                             v1,
	"GET /v1/models/*":                           v1,
	"POST /v1/chat/completions":                  v1,
	"POST /v1/completions":                       v1,
	"POST /v1/embeddings":                        v1,
	"POST /v1/rerank":                            v1,
	"POST /rerank":                               v1,
	"POST /v1/messages":                          v1,
	"GET /api/backends":                          admin,
	"POST /api/backends":                         admin,
	"POST /api/backends/probe":                   admin,
	"PUT /api/backends/:id":                      admin,
	"DELETE /api/backends/:id":                   admin,
	"GET /api/settings/routing":                  admin,
	"PUT /api/settings/routing":                  admin,
	"POST /v1/responses":                         v1,
	"GET /v1/responses/:id":                      v1,
	"DELETE /v1/responses/:id":                   v1,
	// Ollama's API (ollama_api.go).
	"GET /api/version": v1, "HEAD /api/version": v1, "GET /api/tags": v1, "POST /api/show": v1, "GET /api/ps": v1,
	"POST /api/chat": v1, "POST /api/generate": v1, "POST /api/embed": v1, "POST /api/embeddings": v1,
	"POST /api/copy": v1, "POST /api/pull": v1, "DELETE /api/delete": v1Admin,
	// llama-server's utilities (tokenize.go) and Anthropic's token counting.
	"POST /tokenize": v1, "POST /detokenize": v1, "POST /apply-template": v1,
	"POST /v1/tokenize": v1, "POST /v1/detokenize": v1, "POST /v1/apply-template": v1,
	"POST /v1/messages/count_tokens": v1,
}

// secEnv is a real server (no engine) with an administrator and a normal user.
type secEnv struct {
	s                 *Server
	url               string
	adminTok, userTok string
	userKey           string
	adminKey          string
}

func startSec(t *testing.T) *secEnv {
	t.Helper()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	params := auth.TestParams
	s, err := New(Options{Addr: "127.0.0.1:0", Store: st, Now: clock.Now, PasswordParams: &params,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.closeStreams()
		ts.Close()
	})
	env := &secEnv{s: s, url: ts.URL}
	hash, _ := s.auth.hasher.Hash(context.Background(), "password1")
	a, err := st.Users().Create("admin@example.com", hash) // the first user is the admin
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.Users().Create("user@example.com", hash)
	if err != nil {
		t.Fatal(err)
	}
	approved := store.StatusApproved
	if u, err = st.Users().Update(u.ID, store.UserPatch{Status: &approved}); err != nil {
		t.Fatal(err)
	}
	env.adminTok, _, _ = s.auth.tokens.Issue(a.ID, a.TokenGen)
	env.userTok, _, _ = s.auth.tokens.Issue(u.ID, u.TokenGen)
	for _, k := range []struct {
		owner string
		dst   *string
	}{{u.ID, &env.userKey}, {a.ID, &env.adminKey}} {
		key, kh, prefix, _ := auth.NewAPIKey()
		if _, err := st.APIKeys().Create(k.owner, "k", prefix, kh); err != nil {
			t.Fatal(err)
		}
		*k.dst = key
	}
	return env
}

// call sends a request with an optional bearer credential and ?token=, giving up
// on streams after the headers: only the status matters here.
func (e *secEnv) call(t *testing.T, method, path, bearer, query string) (int, string) {
	t.Helper()
	u := e.url + path
	if query != "" {
		u += "?token=" + url.QueryEscape(query)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if method == "POST" || method == "PUT" {
		body = strings.NewReader(`{}`)
	}
	req, _ := http.NewRequestWithContext(ctx, method, u, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var env struct {
		Error struct {
			Code *string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(b, &env)
	if env.Error.Code != nil {
		return resp.StatusCode, *env.Error.Code
	}
	return resp.StatusCode, ""
}

// concrete fills a route template's parameters.
func concrete(path string) string {
	r := strings.NewReplacer(":org/:name", "org/name", ":task_id", "task", ":id", "x", "*", "org/name")
	return r.Replace(path)
}

func TestRouteAccess(t *testing.T) {
	e := startSec(t)
	seen := map[string]bool{}
	for _, r := range e.s.echo.Routes() {
		key := r.Method + " " + r.Path
		if strings.HasPrefix(r.Path, "/api/test/") || seen[key] {
			continue
		}
		seen[key] = true
		acc, ok := routeAccess[key]
		if !ok {
			t.Errorf("route %s is not in routeAccess: decide who may call it", key)
			continue
		}
		path := concrete(r.Path)
		t.Run(key, func(t *testing.T) {
			switch acc {
			case public:
				if code, _ := e.call(t, r.Method, path, "", ""); code == http.StatusUnauthorized || code == http.StatusForbidden {
					t.Errorf("public route answered %d without credentials", code)
				}
			case admin:
				if code, errCode := e.call(t, r.Method, path, e.userTok, ""); code != http.StatusForbidden || errCode != "admin_required" {
					t.Errorf("normal user: %d %s, want 403 admin_required", code, errCode)
				}
				if code, errCode := e.call(t, r.Method, path, e.userKey, ""); code != http.StatusForbidden || errCode != "admin_required" {
					t.Errorf("normal user's API key: %d %s, want 403 admin_required", code, errCode)
				}
				fallthrough
			case v1Admin:
				if code, _ := e.call(t, r.Method, path, e.userKey, ""); code != http.StatusForbidden {
					t.Errorf("normal user's API key: %d, want 403", code)
				}
				fallthrough
			case user, v1:
				if code, _ := e.call(t, r.Method, path, "", ""); code != http.StatusUnauthorized {
					t.Errorf("no credentials: %d, want 401", code)
				}
				if code, _ := e.call(t, r.Method, path, "", e.adminTok); code != http.StatusUnauthorized {
					t.Errorf("?token= on a route that does not take it: %d, want 401", code)
				}
			case queryToken:
				if code, _ := e.call(t, r.Method, path, "", ""); code != http.StatusUnauthorized {
					t.Errorf("no credentials: %d, want 401", code)
				}
				if code, _ := e.call(t, r.Method, path, "", "not-a-token"); code != http.StatusUnauthorized {
					t.Errorf("bad ?token=: %d, want 401", code)
				}
				if code, _ := e.call(t, r.Method, path, "", e.userTok); code == http.StatusUnauthorized || code == http.StatusForbidden {
					t.Errorf("valid ?token= refused: %d", code)
				}
			case scrape:
				if code, _ := e.call(t, r.Method, path, e.userTok, ""); code != http.StatusForbidden {
					t.Errorf("normal user's session: %d, want 403", code)
				}
				if code, _ := e.call(t, r.Method, path, "", e.adminKey); code != http.StatusUnauthorized {
					t.Errorf("?token=: %d, want 401", code)
				}
			}
		})
	}
	for key := range routeAccess {
		if !seen[key] {
			t.Errorf("routeAccess lists %s, which is not a route", key)
		}
	}
}

// TestHostAndOriginOnRealRoutes checks DNS rebinding and cross-site requests on
// the routes that matter, through the whole middleware chain.
func TestHostAndOriginOnRealRoutes(t *testing.T) {
	e := startSec(t)
	own := e.url // http://127.0.0.1:port
	cases := []struct {
		name, method, path, host, origin string
		want                             int
		wantCORS                         bool
	}{
		{"rebound name, login", "POST", "/api/auth/login", "evil.example", "", 403, false},
		{"rebound name, v1", "POST", "/v1/chat/completions", "rebind.attacker.test:8080", "", 403, false},
		{"rebound name, metrics", "GET", "/metrics", "evil.example", "", 403, false},
		{"localhost name", "GET", "/health", "localhost", "", 200, false},
		{"foreign site posts login", "POST", "/api/auth/login", "", "http://evil.example", 403, false},
		{"foreign site posts v1", "POST", "/v1/chat/completions", "", "https://evil.example", 403, false},
		{"foreign site reads: no CORS", "GET", "/health", "", "http://evil.example", 200, false},
		{"null origin posts", "POST", "/api/auth/register", "", "null", 403, false},
		{"own origin preflight", "OPTIONS", "/v1/chat/completions", "", own, 204, true},
		{"own origin read", "GET", "/health", "", own, 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(`{}`))
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); (got != "") != tc.wantCORS || (tc.wantCORS && got != tc.origin) {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
		})
	}
}
