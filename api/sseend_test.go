package api

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// writesListener records every write its connections make.
type writesListener struct {
	net.Listener
	mu     sync.Mutex
	writes [][]byte
}

func (l *writesListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &writesConn{Conn: c, l: l}, nil
}

type writesConn struct {
	net.Conn
	l *writesListener
}

func (c *writesConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes = append(c.l.writes, bytes.Clone(p))
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

// An OpenAI stream's [DONE] leaves in the same write as the end of the
// response; the events before it are each flushed at once.
func TestSSEDoneWithTheEnd(t *testing.T) {
	s := &Server{done: make(chan struct{}), closing: context.Background(), timing: Timing{SSEKeepAlive: time.Hour}.withDefaults()}
	e := echo.New()
	sent := make(chan struct{})
	e.GET("/", func(c echo.Context) error {
		st := s.newSSE(c)
		defer st.close()
		if err := st.send("", map[string]int{"n": 1}); err != nil {
			return err
		}
		<-sent // the client read the event before [DONE] was written
		return st.done()
	})
	ts := httptest.NewUnstartedServer(e)
	wl := &writesListener{Listener: ts.Listener}
	ts.Listener = wl
	ts.Start()
	defer ts.Close()

	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("data: {\"n\":1}\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "data: {\"n\":1}\n\n" {
		t.Fatalf("first event %q, %v: it must not wait for the next", first, err)
	}
	close(sent)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "data: [DONE]\n\n" {
		t.Fatalf("after the event: %q, %v", rest, err)
	}
	wl.mu.Lock()
	defer wl.mu.Unlock()
	last := wl.writes[len(wl.writes)-1]
	if !bytes.Contains(last, []byte("data: [DONE]\n\n")) || !bytes.HasSuffix(last, []byte("0\r\n\r\n")) {
		t.Fatalf("the last write %q holds [DONE] and the chunked end together; writes: %q", last, wl.writes)
	}
}
