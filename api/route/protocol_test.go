package route

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// upstream is an OpenAI-compatible server that records the protocol of every
// chat request it answers.
type upstream struct {
	mu     sync.Mutex
	protos []string // one per POST /v1/chat/completions answered
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		fmt.Fprint(w, `{"data":[{"id":"m"}]}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.protos = append(u.protos, r.Proto)
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n")
	default:
		http.NotFound(w, r)
	}
}

func (u *upstream) answered() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.protos...)
}

// newH2CServer serves u over HTTP/1.1 and h2c, as the daemon does.
func newH2CServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func quietRouter(t *testing.T, opts Options) *Router {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	r := New(opts)
	t.Cleanup(r.CloseIdle)
	return r
}

// chat sends n concurrent streamed chats through r to the backend "b" and
// fails on any that is not answered in full.
func chat(t *testing.T, r *Router, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			_, err := r.Serve(context.Background(), w, &Request{Protocol: OpenAIChat,
				Body: []byte(`{"model":"m","messages":[],"stream":true}`), Targets: []Target{{Backend: "b"}}})
			if err != nil {
				t.Error(err)
				return
			}
			if !strings.Contains(w.Body.String(), `"content":"hi"`) || !strings.HasSuffix(w.Body.String(), "data: [DONE]\n\n") {
				t.Errorf("answer %q", w.Body.String())
			}
		}()
	}
	wg.Wait()
}

func protoCount(protos []string, want string) int {
	n := 0
	for _, p := range protos {
		if p == want {
			n++
		}
	}
	return n
}

// On asks an http:// backend once whether it speaks h2c: the daemon does, and
// gets every request over HTTP/2; an HTTP/1.1-only server (as vLLM's uvicorn and
// llama-server are) gets each request once, over HTTP/1.1, the first ones too.
func TestHTTP2On(t *testing.T) {
	const n = 8
	for _, tc := range []struct {
		name  string
		start func(*testing.T, http.Handler) *httptest.Server
		want  string
		state h2cState
	}{
		{"h2c server", newH2CServer, "HTTP/2.0", h2cYes},
		{"HTTP/1.1-only server", func(t *testing.T, h http.Handler) *httptest.Server {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			return srv
		}, "HTTP/1.1", h2cNo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := &upstream{}
			srv := tc.start(t, up)
			r := quietRouter(t, Options{})
			r.Set([]Backend{{Name: "b", Kind: KindOpenAI, BaseURL: srv.URL + "/v1", HTTP2: HTTP2On}}, nil)
			chat(t, r, n) // all at once, before anything is known of the server
			chat(t, r, n)
			got := up.answered()
			if len(got) != 2*n || protoCount(got, tc.want) != 2*n {
				t.Fatalf("the server answered %v, want %d requests over %s", got, 2*n, tc.want)
			}
			b, _ := r.backend("b")
			if b.h2c != tc.state {
				t.Errorf("h2c state %d, want %d", b.h2c, tc.state)
			}
			r.Probe(context.Background())
			if st, _ := r.Status("b"); !st.Healthy || st.Failures != 0 {
				t.Errorf("after a probe: %+v", st)
			}
		})
	}
}

// Auto and off speak HTTP/1.1 on http:// to a server that has h2c too; a
// change of the setting takes effect at the next request.
func TestHTTP2AutoOff(t *testing.T) {
	up := &upstream{}
	both := newH2CServer(t, up)
	r := quietRouter(t, Options{})
	var want []string
	for _, tc := range []struct{ setting, proto string }{
		{"", "HTTP/1.1"}, {HTTP2Auto, "HTTP/1.1"}, {HTTP2On, "HTTP/2.0"}, {HTTP2Off, "HTTP/1.1"}, {HTTP2On, "HTTP/2.0"},
	} {
		r.Set([]Backend{{Name: "b", Kind: KindOpenAI, BaseURL: both.URL + "/v1", HTTP2: tc.setting}}, nil)
		chat(t, r, 2)
		want = append(want, tc.proto, tc.proto)
	}
	if got := up.answered(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the server answered %v, want %v", got, want)
	}
}

// An HTTPS backend gets HTTP/2 by ALPN, also with the router's own dialer and
// TLS roots; off keeps it on HTTP/1.1.
func TestHTTP2OverTLS(t *testing.T) {
	up := &upstream{}
	srv := httptest.NewUnstartedServer(up)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs},
		DialContext: (&net.Dialer{}).DialContext}
	r := quietRouter(t, Options{Transport: base})
	for _, setting := range []string{HTTP2Auto, HTTP2On, HTTP2Off} {
		r.Set([]Backend{{Name: "b", Kind: KindOpenAI, BaseURL: srv.URL + "/v1", HTTP2: setting}}, nil)
		chat(t, r, 1)
	}
	if got := up.answered(); len(got) != 3 || got[0] != "HTTP/2.0" || got[1] != "HTTP/2.0" || got[2] != "HTTP/1.1" {
		t.Fatalf("auto, on, off over TLS: the server answered %v", got)
	}
}

// switchListener hands each connection to one of two servers: the backend at
// a URL is replaced by another program without the URL changing.
type switchListener struct {
	net.Listener
	h1only atomic.Bool
	h1, h2 chan net.Conn
}

func (l *switchListener) run() {
	for {
		c, err := l.Accept()
		if err != nil {
			close(l.h1)
			close(l.h2)
			return
		}
		if l.h1only.Load() {
			l.h1 <- c
		} else {
			l.h2 <- c
		}
	}
}

// chanListener is a listener fed by switchListener.
type chanListener struct {
	conns  chan net.Conn
	addr   net.Addr
	closed chan struct{}
	once   sync.Once
}

func newChanListener(conns chan net.Conn, addr net.Addr) *chanListener {
	return &chanListener{conns: conns, addr: addr, closed: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c, ok := <-l.conns:
		if ok {
			return c, nil
		}
	case <-l.closed:
	}
	return nil, net.ErrClosed
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// A backend learned to speak h2c that is replaced by an HTTP/1.1-only server
// is learned again: one request fails (before any byte, so another target may
// serve it) and the next goes over HTTP/1.1.
func TestHTTP2OnRelearns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sw := &switchListener{Listener: ln, h1: make(chan net.Conn), h2: make(chan net.Conn)}
	up := &upstream{}
	h2 := &http.Server{Handler: up, Protocols: new(http.Protocols)}
	h2.Protocols.SetHTTP1(true)
	h2.Protocols.SetUnencryptedHTTP2(true)
	h1 := &http.Server{Handler: up}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); sw.run() }()
	go func() { defer wg.Done(); h2.Serve(newChanListener(sw.h2, ln.Addr())) }()
	go func() { defer wg.Done(); h1.Serve(newChanListener(sw.h1, ln.Addr())) }()
	defer func() {
		ln.Close()
		h1.Close()
		h2.Close()
		wg.Wait()
	}()

	r := quietRouter(t, Options{})
	r.Set([]Backend{{Name: "b", Kind: KindOpenAI, BaseURL: "http://" + ln.Addr().String() + "/v1", HTTP2: HTTP2On}}, nil)
	chat(t, r, 1)
	sw.h1only.Store(true)
	h2.Close() // the old server is gone, and its connections with it
	r.CloseIdle()
	_, err = r.Serve(context.Background(), httptest.NewRecorder(), &Request{Protocol: OpenAIChat,
		Body: []byte(`{"model":"m","stream":true}`), Targets: []Target{{Backend: "b"}, {Backend: Local}}})
	if err != nil {
		t.Fatalf("the failed h2c request did not fall back to the next target: %v", err)
	}
	chat(t, r, 2)
	if got := up.answered(); len(got) != 3 || got[0] != "HTTP/2.0" || got[1] != "HTTP/1.1" || got[2] != "HTTP/1.1" {
		t.Fatalf("the servers answered %v, want one request over h2c, then two over HTTP/1.1", got)
	}
}
