package v1test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// h2Preface opens every HTTP/2 connection (RFC 9113, 3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sniffProxy forwards TCP connections to a server and counts them by the
// protocol their first bytes speak.
type sniffProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	h2, h1 int
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newSniffProxy(t *testing.T, target string) *sniffProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &sniffProxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() {
				defer p.wg.Done()
				defer up.Close()
				br := bufio.NewReader(c)
				head, _ := br.Peek(len(h2Preface))
				p.mu.Lock()
				if string(head) == h2Preface {
					p.h2++
				} else {
					p.h1++
				}
				p.mu.Unlock()
				io.Copy(up, br)
			}()
			go func() {
				defer p.wg.Done()
				defer c.Close()
				io.Copy(c, up)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *sniffProxy) counts() (h2, h1 int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.h2, p.h1
}

// A backend with http2 "on" reaches a second daemon over h2c only (its probe
// included), and its answers are the daemon's own.
func TestRouteH2C(t *testing.T) {
	back := start(t, envOptions{})
	front := start(t, envOptions{})
	proxy := newSniffProxy(t, back.Addr)
	b := front.addBackend(t, "gpu", "openai", "http://"+proxy.ln.Addr().String()+"/v1", back.key, map[string]any{"http2": "on"})
	if !b.Health.Healthy {
		t.Fatalf("backend %+v", b)
	}
	front.setRules(t, rule{Pattern: "remote/*", Targets: []target{{Backend: "gpu", Model: tinyID}}})

	direct := back.chat(t, map[string]any{"max_tokens": 5})
	routed := front.chat(t, map[string]any{"model": "remote/tiny", "max_tokens": 5})
	if content(routed, 0) != content(direct, 0) || routed.Usage.CompletionTokens != direct.Usage.CompletionTokens {
		t.Errorf("routed %+v\ndirect %+v", routed, direct)
	}
	s := front.chatStream(t, map[string]any{"model": "remote/tiny", "max_tokens": 5})
	if s.content[0] != content(direct, 0) || s.finish[0] == "" {
		t.Errorf("stream %q (finish %q), want %q", s.content[0], s.finish[0], content(direct, 0))
	}
	if h2, h1 := proxy.counts(); h2 == 0 || h1 != 0 {
		t.Errorf("connections to the second daemon: %d over h2c, %d over HTTP/1.1", h2, h1)
	}

	var views []struct {
		Name  string `json:"name"`
		HTTP2 string `json:"http2"`
	}
	front.JSON(t, "GET", "/api/backends", front.key, nil, http.StatusOK, &views)
	if len(views) != 1 || views[0].HTTP2 != "on" {
		t.Errorf("GET /api/backends: %+v", views)
	}
	e := front.Error(t, "POST", "/api/backends", front.key, map[string]any{"name": "x", "kind": "openai",
		"base_url": "http://127.0.0.1:1/v1", "http2": "yes"}, http.StatusBadRequest)
	if e.Param == nil || *e.Param != "http2" || !strings.Contains(e.Message, `"auto", "on" or "off"`) {
		t.Errorf("http2 \"yes\": %+v", e)
	}
}
