package route

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// HTTP/2 settings of a backend (Backend.HTTP2). Over TLS, HTTP/2 is negotiated
// by ALPN whatever the setting but off. Over cleartext (http://) a client must
// know beforehand that the server speaks it (h2c with prior knowledge): another
// mlx-manager does, vLLM's uvicorn and llama-server do not. h2c is not the
// default because it cost more than it saved: through a second daemon, 32
// concurrent streams took 150-200 µs more CPU per request over h2c than over
// HTTP/1.1 with kept-alive connections (BenchmarkRouteFirstByte, Go 1.27).
const (
	// HTTP2Auto is HTTP/2 where TLS negotiates it, HTTP/1.1 on http://.
	HTTP2Auto = "auto"
	// HTTP2On adds h2c on http://, for fewer connections to a server that
	// speaks it: asked once per backend (GET /models) and remembered, so a server
	// that speaks only HTTP/1.1 gets HTTP/1.1 and no request is lost or sent twice.
	HTTP2On = "on"
	// HTTP2Off speaks HTTP/1.1 only, over TLS too.
	HTTP2Off = "off"
)

// ValidHTTP2 reports whether s is an HTTP/2 setting; "" means HTTP2Auto.
func ValidHTTP2(s string) bool { return s == "" || s == HTTP2Auto || s == HTTP2On || s == HTTP2Off }

// clients are the router's connections to backends, one pool per protocol
// choice: the transports share their settings, never their connections.
type clients struct {
	std *http.Client // HTTP/1.1, or HTTP/2 when a TLS server picks it by ALPN
	h1  *http.Client // HTTP/1.1 only
	h2c *http.Client // HTTP/2 over cleartext with prior knowledge
}

func newClients(base *http.Transport) clients {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
		base.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	with := func(set func(*http.Protocols)) *http.Client {
		t := base.Clone()
		// 32 concurrent streams to one GPU server keep their connections between
		// requests: with the default of 2, 30 of them were dialled again each time.
		t.MaxIdleConnsPerHost = 64
		var p http.Protocols
		set(&p)
		// Explicit, because a custom dialer or TLS config otherwise turns HTTP/2
		// off unless ForceAttemptHTTP2 is set.
		t.Protocols = &p
		return &http.Client{Transport: t}
	}
	return clients{
		std: with(func(p *http.Protocols) { p.SetHTTP1(true); p.SetHTTP2(true) }),
		h1:  with(func(p *http.Protocols) { p.SetHTTP1(true) }),
		h2c: with(func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }),
	}
}

func (c clients) closeIdle() {
	c.std.CloseIdleConnections()
	c.h1.CloseIdleConnections()
	c.h2c.CloseIdleConnections()
}

// h2cState is what the router knows of an http:// backend's h2c.
type h2cState uint8

const (
	h2cUnknown h2cState = iota
	h2cYes
	h2cNo
)

// h2cCheckTimeout bounds the one h2c request of HTTP2On: a server that does not
// answer it in time gets HTTP/1.1, which every server speaks.
const h2cCheckTimeout = 5 * time.Second

// client is the client of a request to b. With HTTP2On on an http:// URL it
// first learns whether the server speaks h2c, once; ctx bounds the wait.
func (r *Router) client(ctx context.Context, b *backend, cfg Backend) *http.Client {
	switch {
	case cfg.HTTP2 == HTTP2Off:
		return r.clients.h1
	case cfg.HTTP2 != HTTP2On || !strings.HasPrefix(cfg.BaseURL, "http://"):
		return r.clients.std
	}
	if r.learnH2C(ctx, b, cfg) == h2cYes {
		return r.clients.h2c
	}
	return r.clients.std
}

// learnH2C returns what the router knows of b's h2c, asking the backend when
// nobody has: one request at a time asks, the others wait for its answer.
func (r *Router) learnH2C(ctx context.Context, b *backend, cfg Backend) h2cState {
	b.mu.Lock()
	st, wait := b.h2c, b.h2cCheck
	if st != h2cUnknown {
		b.mu.Unlock()
		return st
	}
	if wait != nil {
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return h2cUnknown
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.h2c
	}
	done := make(chan struct{})
	b.h2cCheck = done
	gen := b.gen
	b.mu.Unlock()

	st = r.checkH2C(ctx, cfg)

	b.mu.Lock()
	if b.gen == gen { // the backend's settings did not change meanwhile
		b.h2c = st
	}
	b.h2cCheck = nil
	b.mu.Unlock()
	close(done)
	return st
}

// checkH2C asks GET {base}/models over h2c: any HTTP answer, even a refusal,
// proves the server speaks it. An unreachable server proves nothing (unknown:
// the request goes on over HTTP/1.1 and fails as it would have).
func (r *Router) checkH2C(ctx context.Context, cfg Backend) h2cState {
	cctx, cancel := context.WithTimeout(ctx, h2cCheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, cfg.BaseURL+"/models", nil)
	if err != nil {
		return h2cNo
	}
	setAuth(req.Header, cfg, nil)
	resp, err := r.clients.h2c.Do(req)
	if err == nil {
		resp.Body.Close()
		return h2cYes
	}
	if ctx.Err() != nil || isDialError(err) {
		return h2cUnknown
	}
	r.opts.Logger.Info("backend speaks no HTTP/2 cleartext: using HTTP/1.1", "backend", cfg,
		"err", redact(err.Error(), cfg.APIKey))
	return h2cNo
}

// forgetH2C makes the next request learn b's h2c again, after a failure over
// h2c that was not a refused connection: the server at the URL may have been
// replaced by one that speaks only HTTP/1.1.
func (r *Router) forgetH2C(b *backend, client *http.Client, err error) {
	if client != r.clients.h2c || isDialError(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // down, slow or left by its client: nothing said about the protocol
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h2c == h2cYes {
		b.h2c = h2cUnknown
	}
}

// isDialError reports a failure to connect at all: the server is down, not
// speaking another protocol.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
