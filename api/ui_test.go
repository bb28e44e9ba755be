package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mlx-manager/mlx-manager/assets"
)

const (
	testIndex  = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>`
	testScript = "export const app = 'mlx-manager';\n"
)

// builtUI is a stand-in for a Vite build: an index, a hashed script large enough
// to be compressed, and an icon.
func builtUI() fs.FS {
	return fstest.MapFS{
		".keep":                    {Data: nil},
		"index.html":               {Data: []byte(testIndex)},
		"favicon.svg":              {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/index-abc123.js":   {Data: []byte(strings.Repeat(testScript, 200))},
		"assets/index-abc123.css":  {Data: []byte("body{margin:0}")},
		"assets/nested/chunk-1.js": {Data: []byte("export {}")},
	}
}

// serveUI returns a server that answers with fsys at /.
func serveUI(t *testing.T, fsys fs.FS) *Server {
	t.Helper()
	return newTestServer(t, func(o *Options) { o.UI = fsys })
}

func TestUIPagesAndFallback(t *testing.T) {
	s := serveUI(t, builtUI())
	for _, path := range []string{"/", "/index.html", "/models", "/chat", "/settings/keys", "/users?x=1"} {
		t.Run(path, func(t *testing.T) {
			w := do(s, "GET", path, nil)
			if w.Code != 200 || w.Body.String() != testIndex {
				t.Fatalf("status %d body %.80q, want the index", w.Code, w.Body)
			}
			h := w.Header()
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			if h.Get("Cache-Control") != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache: a new build must show at once", h.Get("Cache-Control"))
			}
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "connect-src 'self' ws://127.0.0.1:10242"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("X-Frame-Options %q", h.Get("X-Frame-Options"))
			}
		})
	}
}

func TestUIAssets(t *testing.T) {
	s := serveUI(t, builtUI())
	tests := []struct {
		path, ctype, cache string
	}{
		{"/assets/index-abc123.js", "javascript", "immutable"},
		{"/assets/index-abc123.css", "text/css", "immutable"},
		{"/assets/nested/chunk-1.js", "javascript", "immutable"},
		{"/favicon.svg", "image/svg+xml", "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := do(s, "GET", tt.path, nil)
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tt.ctype)
			}
			if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, tt.cache) {
				t.Errorf("Cache-Control %q, want %s", cc, tt.cache)
			}
			if w.Header().Get("Content-Encoding") != "" {
				t.Error("compressed for a client that did not ask")
			}
		})
	}
}

func TestUIGzipAndETag(t *testing.T) {
	s := serveUI(t, builtUI())
	want := strings.Repeat(testScript, 200)
	w := do(s, "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", w.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || string(got) != want {
		t.Fatalf("decompressed %d bytes (%v), want the %d-byte script", len(got), err, len(want))
	}
	if w.Body.Len() >= len(want) {
		t.Errorf("gzip body %d bytes, not smaller than %d", w.Body.Len(), len(want))
	}

	etag := w.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	w = do(s, "GET", "/assets/index-abc123.js", map[string]string{"If-None-Match": etag})
	if w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("revalidation: status %d, %d bytes; want 304 and none", w.Code, w.Body.Len())
	}
	w = do(s, "GET", "/assets/index-abc123.js", map[string]string{"If-None-Match": `"other"`})
	if w.Code != 200 {
		t.Errorf("stale ETag: status %d, want 200", w.Code)
	}
	w = do(s, "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if w.Header().Get("Content-Encoding") != "" {
		t.Error("compressed although gzip;q=0")
	}
}

func TestUIHead(t *testing.T) {
	s := serveUI(t, builtUI())
	w := do(s, "HEAD", "/models", nil)
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("status %d, %d body bytes; want 200 and none", w.Code, w.Body.Len())
	}
	if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(testIndex)) {
		t.Errorf("Content-Length %q, want %d", cl, len(testIndex))
	}
}

func TestUINotFound(t *testing.T) {
	s := serveUI(t, builtUI())
	tests := []struct {
		name, path string
		json       bool
	}{
		{"missing asset", "/assets/gone-123.js", true},
		{"missing file with extension", "/robots.txt", true},
		{"unknown api route", "/api/nothing", true},
		{"api root", "/api", true},
		{"unknown v1 route", "/v1/nothing", true},
		{"dotfile is not served", "/.keep", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(s, "GET", tt.path, nil)
			if w.Code != 404 {
				t.Fatalf("status %d, want 404 (body %.100q)", w.Code, w.Body)
			}
			if tt.json && !strings.Contains(w.Body.String(), `"not_found_error"`) {
				t.Errorf("body %.100q, want the JSON error envelope", w.Body)
			}
		})
	}
}

func TestUIPathTraversal(t *testing.T) {
	s := serveUI(t, builtUI())
	for _, path := range []string{"/../../etc/passwd", "/assets/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"} {
		w := do(s, "GET", path, nil)
		if strings.Contains(w.Body.String(), "root:") {
			t.Fatalf("%s leaked a file outside the UI", path)
		}
	}
}

func TestUIRefusesForeignHost(t *testing.T) {
	s := serveUI(t, builtUI())
	w := do(s, "GET", "/", map[string]string{"Host": "rebind.attacker.example"})
	if w.Code != 403 {
		t.Fatalf("status %d, want 403: DNS rebinding must not reach the app", w.Code)
	}
}

func TestUINotBuilt(t *testing.T) {
	s := serveUI(t, fstest.MapFS{".keep": {Data: nil}})
	for _, path := range []string{"/", "/models"} {
		w := do(s, "GET", path, nil)
		if w.Code != 503 || !strings.Contains(w.Body.String(), "make build") {
			t.Fatalf("%s: status %d body %.200q; want 503 saying how to build", path, w.Code, w.Body)
		}
	}
	if w := do(s, "GET", "/health", nil); w.Code != 200 {
		t.Errorf("health status %d without a UI", w.Code)
	}
}

// TestEmbeddedUI checks the real embedded files: either a build or just .keep.
func TestEmbeddedUI(t *testing.T) {
	s := newTestServer(t)
	w := do(s, "GET", "/", nil)
	switch {
	case assets.UIBuilt(assets.UI()):
		if w.Code != 200 || !strings.Contains(w.Body.String(), `<div id="app">`) {
			t.Fatalf("built UI: status %d body %.200q", w.Code, w.Body)
		}
	default:
		if w.Code != 503 {
			t.Fatalf("unbuilt UI: status %d, want 503", w.Code)
		}
	}
}
