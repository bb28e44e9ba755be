package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/store"
)

// Fetching an image a chat request names by URL (the "images" setting,
// off by default): the request makes this server connect somewhere, so the
// fetch is bounded in bytes, time and redirects, and in "public" mode the
// address actually dialled, after DNS and after every redirect, must be a
// public one. The check sits in the dialer's Control hook, on the IP the
// socket connects to: a name that resolves to a public address when asked
// and to 127.0.0.1 when dialled (DNS rebinding) is still refused.

const (
	imageFetchTimeout   = 15 * time.Second // the whole fetch, redirects and body included
	imageFetchRedirects = 3
)

// errNotPublic is the dial hook's refusal.
var errNotPublic = errors.New("the address is not a public one (loopback, private and link-local addresses are refused; an admin can allow them with image_url_fetch=any)")

// imageFetcher fetches images over HTTP(S) within its limits.
type imageFetcher struct {
	client   *http.Client
	maxBytes int64
}

// newImageFetcher is a fetcher for a mode of store.ImageSettings: public
// refuses non-public addresses at dial time, any does not.
func newImageFetcher(mode string, timeout time.Duration, maxBytes int64) *imageFetcher {
	dialer := &net.Dialer{Timeout: timeout}
	if mode != store.ImageFetchAny {
		dialer.Control = publicOnly
	}
	tr := &http.Transport{
		// No proxy from the environment: a proxy would dial on our behalf,
		// past the address check.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      true,
	}
	return &imageFetcher{maxBytes: maxBytes, client: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > imageFetchRedirects {
				return fmt.Errorf("more than %d redirects", imageFetchRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s: URL", req.URL.Scheme)
			}
			return nil
		},
	}}
}

// publicOnly is the dialer's Control hook: it sees the IP being connected to.
func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !publicAddr(ip) {
		return fmt.Errorf("dial %s: %w", address, errNotPublic)
	}
	return nil
}

// nonPublic are ranges netip's predicates leave out: shared (CGNAT),
// IETF protocol assignments, benchmarking, reserved, and NAT64 (which can
// embed any IPv4 address).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// publicAddr reports whether ip is a global unicast address outside the
// private, loopback, link-local and special ranges.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// fetch GETs url and returns the body: a 200 answer of at most maxBytes.
func (f *imageFetcher) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/*")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fetchReason(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, fmt.Errorf("image of %d bytes, more than %d", resp.ContentLength, f.maxBytes)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "image/") && !strings.HasPrefix(ct, "application/octet-stream") {
		return nil, fmt.Errorf("the server sent %s, not an image", ct)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, fetchReason(err)
	}
	if int64(len(data)) > f.maxBytes {
		return nil, fmt.Errorf("image of more than %d bytes", f.maxBytes)
	}
	return data, nil
}

// fetchReason keeps what the client should read of a failed fetch: the
// refusal or the timeout, not the inner details of Go's errors.
func fetchReason(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, errNotPublic):
		return errNotPublic
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("timed out after %s", imageFetchTimeout)
	}
	return err
}

// imageURLFetcher is a decoded /v1 body whose images may be fetched
// (openai.ChatRequest).
type imageURLFetcher interface {
	FetchImageURLs(fetch func(url string) ([]byte, error)) error
}

// fetchImageURLs fetches the http(s) image URLs of req when the images
// setting allows it; when it is off, the conversion refuses them as before.
func (s *Server) fetchImageURLs(ctx context.Context, req any) error {
	r, ok := req.(imageURLFetcher)
	if !ok {
		return nil
	}
	set, err := s.store.Settings().Images()
	if err != nil {
		return err
	}
	mode := set.Fetch()
	if mode == store.ImageFetchOff {
		return nil
	}
	f := newImageFetcher(mode, imageFetchTimeout, openai.MaxImageBytes)
	defer f.client.CloseIdleConnections()
	return v1Error(r.FetchImageURLs(func(url string) ([]byte, error) { return f.fetch(ctx, url) }))
}
