package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
)

// streamServer serves one stream handler on a real connection.
func streamServer(t *testing.T, keepAlive time.Duration, handler func(s *Server, c echo.Context) error) (*Server, string) {
	t.Helper()
	closing, closeAll := context.WithCancel(context.Background()) // as New makes them
	t.Cleanup(closeAll)
	s := &Server{done: make(chan struct{}), closing: closing, closeAll: closeAll, timing: Timing{SSEKeepAlive: keepAlive}.withDefaults()}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if !c.Response().Committed {
			c.JSON(toError(err).Status, map[string]string{"error": err.Error()})
		}
	}
	e.GET("/", func(c echo.Context) error { return handler(s, c) })
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func TestSSEKeepAliveAndEvents(t *testing.T) {
	release := make(chan struct{})
	_, url := streamServer(t, 20*time.Millisecond, func(s *Server, c echo.Context) error {
		st := s.newSSE(c)
		defer st.close()
		<-release // a long prefill: nothing to send
		if err := st.send("message_start", map[string]string{"type": "message_start"}); err != nil {
			return err
		}
		if err := st.send("", map[string]int{"n": 1}); err != nil {
			return err
		}
		return st.done()
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != ": keep-alive\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	var rest strings.Builder
	for {
		l, err := r.ReadString('\n')
		rest.WriteString(l)
		if err != nil {
			break
		}
	}
	got := strings.ReplaceAll(rest.String(), ": keep-alive\n\n", "")
	want := "\nevent: message_start\ndata: {\"type\":\"message_start\"}\n\ndata: {\"n\":1}\n\ndata: [DONE]\n\n"
	if got != want {
		t.Errorf("stream %q, want %q", got, want)
	}
}

// TestSSELazyCommit checks that a stream that fails before sending anything can
// still answer with an HTTP error.
func TestSSELazyCommit(t *testing.T) {
	_, url := streamServer(t, time.Hour, func(s *Server, c echo.Context) error {
		st := s.newSSE(c)
		defer st.close()
		return streamFailed(c, st, "m", errors.New("boom"), func(*Error) error { t.Error("wrote the error in a stream"); return nil })
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestSSEShutdown checks that a server shutdown ends a stream's context and that
// the stream then reports the shutdown in the stream.
func TestSSEShutdown(t *testing.T) {
	s, url := streamServer(t, time.Hour, func(s *Server, c echo.Context) error {
		st := s.newSSE(c)
		defer st.close()
		if err := st.comment("started"); err != nil {
			return err
		}
		<-st.ctx.Done()
		return streamFailed(c, st, "m", st.ctx.Err(), func(e *Error) error { return st.send("", map[string]string{"error": e.Message}) })
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if l, _ := r.ReadString('\n'); l != ": started\n" {
		t.Fatalf("first line %q", l)
	}
	s.closeStreams()
	var rest strings.Builder
	for {
		l, err := r.ReadString('\n')
		rest.WriteString(l)
		if err != nil {
			break
		}
	}
	if !strings.Contains(rest.String(), `data: {"error":"the server is shutting down"}`) {
		t.Errorf("after shutdown: %q", rest.String())
	}
}

// writeRecorder records each write to the response.
type writeRecorder struct {
	*httptest.ResponseRecorder
	writes []string
}

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.writes = append(w.writes, string(b))
	return w.ResponseRecorder.Write(b)
}

// Held events leave with the next event in one write; until then nothing is
// committed, so a handler that fails still answers with an HTTP error.
func TestSSEHold(t *testing.T) {
	w := &writeRecorder{ResponseRecorder: httptest.NewRecorder()}
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), w)
	st := (&Server{done: make(chan struct{}), closing: context.Background(), timing: Timing{SSEKeepAlive: time.Hour}}).newSSE(c)
	defer st.close()
	if err := st.hold("", map[string]string{"role": "assistant"}); err != nil {
		t.Fatal(err)
	}
	if st.isCommitted() || len(w.writes) != 0 {
		t.Fatalf("a held event was written: committed %v, writes %q", st.isCommitted(), w.writes)
	}
	if err := st.send("", map[string]string{"content": "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := st.sendEvents([]openai.Event{{Name: "a", Data: 1}, {Name: "b", Data: 2}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"data: {\"role\":\"assistant\"}\n\ndata: {\"content\":\"hi\"}\n\n", "event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"}
	if len(w.writes) != len(want) || w.writes[0] != want[0] || w.writes[1] != want[1] {
		t.Fatalf("writes %q, want %q", w.writes, want)
	}
}

// TestSSEKeepAliveRepeats: the keep-alive timer sets itself again, so a long
// silence gets a comment every quietMax, and the stream ends cleanly after.
func TestSSEKeepAliveRepeats(t *testing.T) {
	release := make(chan struct{})
	_, url := streamServer(t, 10*time.Millisecond, func(s *Server, c echo.Context) error {
		st := s.newSSE(c)
		defer st.close()
		<-release
		return st.done()
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for i := range 3 {
		for _, want := range []string{": keep-alive\n", "\n"} {
			if line, err := r.ReadString('\n'); err != nil || line != want {
				t.Fatalf("keep-alive %d: line %q, %v", i, line, err)
			}
		}
	}
	close(release)
	rest, err := io.ReadAll(r)
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("end of stream %q, %v", rest, err)
	}
}
