package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/assets"
)

// uiRoutes serves the web app: its files, and index.html for every other path
// outside /api and /v1, so the app's own routes (/models, /chat) survive a reload.
// It goes last: echo prefers every other route to the catch-all.
func (s *Server) uiRoutes() {
	fsys := s.opts.UI
	if fsys == nil {
		fsys = assets.UI()
	}
	ui := &uiHandler{fsys: fsys}
	s.echo.GET("/*", ui.serve)
	s.echo.HEAD("/*", ui.serve)
}

// uiFile is one file of the app, read once into memory with its gzip form: the whole
// app is a few hundred kilobytes.
type uiFile struct {
	data  []byte
	gz    []byte // nil when compressing does not pay
	etag  string
	ctype string
}

type uiHandler struct {
	fsys fs.FS

	once  sync.Once
	files map[string]*uiFile // by path without the leading slash
	err   error
}

// load reads the files on first use rather than in New: most servers the tests
// create never serve the UI.
func (h *uiHandler) load() {
	h.files = map[string]*uiFile{}
	h.err = fs.WalkDir(h.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		data, err := fs.ReadFile(h.fsys, p)
		if err != nil {
			return fmt.Errorf("read ui file %s: %w", p, err)
		}
		sum := sha256.Sum256(data)
		f := &uiFile{data: data, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: mime.TypeByExtension(path.Ext(p))}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		f.gz = compress(f.ctype, data)
		h.files[p] = f
		return nil
	})
}

// compress gzips text worth compressing; nil otherwise.
func compress(ctype string, data []byte) []byte {
	text := strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
	if !text || len(data) < 1024 {
		return nil
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	if b.Len() >= len(data) {
		return nil
	}
	return b.Bytes()
}

func (h *uiHandler) serve(c echo.Context) error {
	urlPath := c.Request().URL.Path
	if isAPIPath(urlPath) {
		return echo.ErrNotFound // an unknown API route stays a JSON 404, never the app
	}
	h.once.Do(h.load)
	if h.err != nil {
		return h.err
	}
	index, built := h.files["index.html"]
	if !built {
		return notBuilt(c)
	}
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	f, ok := h.files[name]
	switch {
	case ok && name != "index.html":
		cache := "no-cache"
		if strings.HasPrefix(name, "assets/") {
			cache = "public, max-age=31536000, immutable" // Vite names these by content hash
		}
		return h.write(c, f, cache)
	case path.Ext(name) != "" && !ok:
		// A missing script or image: answering with the page would hide the mistake.
		return echo.ErrNotFound
	}
	setPageHeaders(c)
	return h.write(c, index, "no-cache")
}

// isAPIPath tells the daemon's API paths from the app's.
func isAPIPath(p string) bool {
	for _, prefix := range []string{"/api", "/v1"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

func (h *uiHandler) write(c echo.Context, f *uiFile, cache string) error {
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, f.ctype)
	hd.Set("Cache-Control", cache)
	hd.Set("ETag", f.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Add("Vary", "Accept-Encoding")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	body := f.data
	if f.gz != nil && acceptsGzip(c.Request()) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if c.Request().Method == http.MethodHead {
		hd.Set(echo.HeaderContentLength, fmt.Sprint(len(body)))
		return c.NoContent(http.StatusOK)
	}
	return c.Blob(http.StatusOK, f.ctype, body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// setPageHeaders protects the app's page: no framing (clickjacking), and scripts,
// styles and connections only from this origin, so model output that slipped past
// the sanitizer still could not load or run anything.
func setPageHeaders(c echo.Context) {
	host := c.Request().Host // already checked against the Host policy
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"font-src 'self'; connect-src 'self' ws://"+host+" wss://"+host+"; object-src 'none'; base-uri 'none'; "+
		"form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MLX Manager: web UI not built</title>
<style>body{font:15px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>The web UI was not built into this binary</h1>
<p>This <code>mlx-manager</code> was compiled with <code>go build</code> alone, before the web app was built.
Build it with <code>make build</code> (it runs <code>npm ci</code> and the Vite build in <code>assets/ui</code>, then
<code>go build</code>), or run <code>make run</code>.</p>
<p>The daemon works without it: the OpenAI-compatible API is at <code>/v1</code> and the JSON API at <code>/api</code>.</p>
</body></html>
`

func notBuilt(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusServiceUnavailable, notBuiltPage)
}
