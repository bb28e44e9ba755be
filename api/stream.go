package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
)

// sseWriteTimeout bounds one write: a client that stops reading must not hold a
// generation (and its model lease) forever.
const sseWriteTimeout = 30 * time.Second

// An SSE response's header values, shared by every stream: net/http only
// reads them, and a later Add copies (each has no room to grow).
var (
	sseContentType = []string{"text/event-stream"}
	sseNoCache     = []string{"no-cache"}
	sseKeepAlive   = []string{"keep-alive"}
	sseNo          = []string{"no"}
)

// sseStream is a Server-Sent Events response. The response is committed lazily,
// by the first event or keep-alive, so that a request failing before it produced
// anything (unknown model, prompt too long, queue full) still gets a proper HTTP
// error. Writes are serialised with the keep-alive timer's and flushed at once.
//
// ctx ends when the client goes away or the server starts shutting down; run the
// work that feeds the stream with it. close must be called when the handler ends.
type sseStream struct {
	c      echo.Context
	rc     *http.ResponseController
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex // guards the response writer, committed, last, held, enc, keep and stopped
	committed bool
	last      time.Time     // last write
	held      bytes.Buffer  // events encoded, for the next write; reused
	enc       *json.Encoder // into held: no buffer of its own per event
	quietMax  time.Duration // Timing.SSEKeepAlive: the longest silence

	// keep fires when the stream may have been quiet for quietMax: a timer,
	// not a goroutine with a ticker, since every stream has one and most end
	// long before it fires.
	keep    *time.Timer
	stopped bool        // no keep-alive after stop
	unwatch func() bool // stops the shutdown's cancel of ctx
}

// newSSE starts a stream on c; nothing is written yet.
func (s *Server) newSSE(c echo.Context) *sseStream {
	ctx, cancel := context.WithCancel(c.Request().Context())
	st := &sseStream{
		c: c, rc: http.NewResponseController(c.Response()), ctx: ctx, cancel: cancel,
		last: time.Now(), quietMax: s.timing.SSEKeepAlive,
	}
	st.enc = json.NewEncoder(&st.held)
	st.unwatch = context.AfterFunc(s.closing, cancel) // shutdown ends the stream's work
	st.mu.Lock()                                      // keepAlive reads st.keep
	st.keep = time.AfterFunc(st.quietMax, st.keepAlive)
	st.mu.Unlock()
	return st
}

// keepAlive runs on st.keep: it writes a comment when nothing was written for
// quietMax, and sets the timer for when that may next be so.
func (st *sseStream) keepAlive() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped || st.ctx.Err() != nil {
		return
	}
	if quiet := time.Since(st.last); quiet < st.quietMax {
		st.keep.Reset(st.quietMax - quiet)
		return
	}
	_ = st.writeLocked([]byte(": keep-alive\n\n"), true) // a failed write ends ctx's client soon enough
	st.keep.Reset(st.quietMax)
}

// send writes one event: with a name ("event: message_start") or, when name is
// "", a plain data line as OpenAI streams use.
func (st *sseStream) send(name string, data any) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.encodeLocked(name, data); err != nil {
		return err
	}
	return st.writeLocked(nil, true)
}

// hold encodes an event that goes out with the next write. Events a handler
// has together (a chat's role and first token; its finish, usage and [DONE])
// then cost one write and one flush: each event alone was a system call here,
// and a wakeup, a read and a write more in a daemon that routes the stream on
// (issue #24). The caller sends right after; nothing held waits for the engine.
func (st *sseStream) hold(name string, data any) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.encodeLocked(name, data)
}

// encodeLocked appends an event to held. An event that fails to encode
// leaves nothing of itself there.
func (st *sseStream) encodeLocked(name string, data any) error {
	n := st.held.Len()
	if name != "" {
		st.held.WriteString("event: ")
		st.held.WriteString(name)
		st.held.WriteByte('\n')
	}
	st.held.WriteString("data: ")
	if err := st.enc.Encode(data); err != nil { // json.Marshal's bytes, and a '\n'
		st.held.Truncate(n)
		return fmt.Errorf("encode stream event: %w", err)
	}
	st.held.WriteByte('\n')
	return nil
}

// sendEvents writes evs in one write.
func (st *sseStream) sendEvents(evs []openai.Event) error {
	for i, ev := range evs {
		out := st.send
		if i < len(evs)-1 {
			out = st.hold
		}
		if err := out(ev.Name, ev.Data); err != nil {
			return err
		}
	}
	return nil
}

// done ends an OpenAI stream with its sentinel, which is written but not
// flushed: the handler returns next, and the end of the response sends it
// with the chunked terminator, one write (and one read for the client, or for
// a daemon routing the stream on) fewer a request.
func (st *sseStream) done() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.writeLocked([]byte("data: [DONE]\n\n"), false)
}

// comment writes an SSE comment, which clients ignore.
func (st *sseStream) comment(text string) error {
	return st.write([]byte(": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(text) + "\n\n"))
}

func (st *sseStream) write(b []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.writeLocked(b, true)
}

func (st *sseStream) writeLocked(b []byte, flush bool) error {
	w := st.c.Response()
	if !st.committed {
		h := w.Header()
		h[echo.HeaderContentType] = sseContentType // Set's []string{v} each, four allocations a stream
		h[echo.HeaderCacheControl] = sseNoCache
		h["Connection"] = sseKeepAlive
		h["X-Accel-Buffering"] = sseNo // nginx must not hold events back
		w.WriteHeader(http.StatusOK)
		st.committed = true
	}
	if err := st.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("set stream write deadline: %w", err)
	}
	st.last = time.Now()
	if st.held.Len() > 0 {
		st.held.Write(b)
		b = st.held.Bytes()
		defer st.held.Reset()
	}
	if _, err := w.Write(b); err != nil {
		st.cancel() // the client is gone: stop the work feeding the stream
		return fmt.Errorf("write stream: %w", err)
	}
	if !flush {
		return nil
	}
	if err := st.rc.Flush(); err != nil {
		st.cancel()
		return fmt.Errorf("flush stream: %w", err)
	}
	return nil
}

// stop ends the keep-alives; after it returns, nothing writes behind the handler's
// back, so the handler may still answer with an HTTP error if !isCommitted().
// A keepAlive already waiting for mu finds stopped set and does nothing.
func (st *sseStream) stop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopped = true
	st.keep.Stop()
}

// isCommitted reports whether the response has started.
func (st *sseStream) isCommitted() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.committed
}

// shuttingDown reports whether the stream's context ended because of a server
// shutdown rather than the client.
func (st *sseStream) shuttingDown() bool {
	return st.ctx.Err() != nil && st.c.Request().Context().Err() == nil
}

// close stops the keep-alives and the shutdown's hold on the stream, and lifts the write
// deadline: the connection may serve the client's next request, which must not
// inherit it (the server sets none of its own).
func (st *sseStream) close() {
	st.stop()
	st.cancel()
	st.unwatch()
	if st.isCommitted() {
		_ = st.rc.SetWriteDeadline(time.Time{}) // not supported: there was none either
	}
}
