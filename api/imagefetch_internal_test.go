package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		public bool
	}{
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"2001:4860:4860::8888", true}, {"::ffff:8.8.8.8", true},
		{"127.0.0.1", false}, {"127.8.9.10", false}, {"::1", false}, {"::ffff:127.0.0.1", false},
		{"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false}, {"fd00::1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"0.0.0.0", false}, {"::", false},
		{"100.64.0.1", false}, {"198.18.0.1", false}, {"224.0.0.1", false}, {"ff02::1", false},
		{"255.255.255.255", false}, {"64:ff9b::7f00:1", false}, {"192.0.0.8", false},
	} {
		if got := publicAddr(netip.MustParseAddr(tc.ip)); got != tc.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.ip, got, tc.public)
		}
	}
}

// TestImageFetcherLimits runs the fetcher against a local server ("any",
// so that loopback is allowed): redirects, size, status, type and time.
func TestImageFetcherLimits(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		switch {
		case r.URL.Path == "/img":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("0123456789"))
		case r.URL.Path == "/big":
			w.Header().Set("Content-Type", "image/png")
			w.Write(make([]byte, 11))
		case r.URL.Path == "/chunked": // no Content-Length: the reader's bound applies
			w.Header().Set("Content-Type", "image/png")
			w.Write(make([]byte, 5))
			w.(http.Flusher).Flush()
			w.Write(make([]byte, 6))
		case r.URL.Path == "/html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
		case r.URL.Path == "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://example.com/x.png", http.StatusFound)
		default:
			if _, err := fmt.Sscanf(r.URL.Path, "/hops/%d", &n); err != nil {
				http.NotFound(w, r)
				return
			}
			next := "/img"
			if n > 1 {
				next = fmt.Sprintf("/hops/%d", n-1)
			}
			http.Redirect(w, r, next, http.StatusFound)
		}
	}))
	defer srv.Close()
	defer close(release)
	f := newImageFetcher(store.ImageFetchAny, 300*time.Millisecond, 10)
	ctx := context.Background()
	for _, tc := range []struct {
		path, err string // err "" : fetched
	}{
		{"/img", ""},
		{fmt.Sprintf("/hops/%d", imageFetchRedirects), ""},
		{fmt.Sprintf("/hops/%d", imageFetchRedirects+1), "redirects"},
		{"/ftp", "ftp"},
		{"/big", "more than 10"},
		{"/chunked", "more than 10"},
		{"/html", "not an image"},
		{"/nope", "404"},
		{"/slow", "timed out"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			data, err := f.fetch(ctx, srv.URL+tc.path)
			switch {
			case tc.err == "" && (err != nil || string(data) != "0123456789"):
				t.Errorf("fetch = %q, %v", data, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("fetch = %d bytes, %v; want an error saying %q", len(data), err, tc.err)
			}
		})
	}

	// Public mode: the dial hook refuses the loopback address whatever the
	// name (localhost resolves to it at dial time, as a rebinding name would).
	pub := newImageFetcher(store.ImageFetchPublic, time.Second, 10)
	for _, u := range []string{srv.URL + "/img", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/img"} {
		if _, err := pub.fetch(ctx, u); !errors.Is(err, errNotPublic) {
			t.Errorf("public fetch of %s: %v, want errNotPublic", u, err)
		}
	}
}
