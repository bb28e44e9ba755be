package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

// Time limits: a non-streaming /api call answers in well under a second, and
// Timing.Request stops one that does not; model loads get modelLoadTime.
var modelLoadTime = 10 * time.Minute // POST /api/servers/start loads a model: large ones take minutes

// unboundedRoutes are the /api routes that stream for as long as the client
// watches, so they get no request timeout; the export streams the whole audit log.
var unboundedRoutes = map[string]bool{
	"/api/system/ws/audit-logs":              true,
	"/api/system/audit-logs/export":          true,
	"/api/models/download/:task_id/progress": true,
	"/api/servers/events":                    true,
}

// slowRoutes get a longer timeout than Timing.Request.
var slowRoutes = map[string]*time.Duration{
	"/api/servers/start": &modelLoadTime,
}

// bodyLimit is the largest request body a route takes: /v1 carries whole chats,
// everything else is a small JSON document. Handlers enforce the same caps when
// they decode; this refuses an oversized body before anything reads it.
// maxProfileBody fits a profile's longest system prompt (32K characters of up
// to 4 bytes each in UTF-8, escaped).
const maxProfileBody = 256 << 10

func bodyLimit(path string) int64 {
	if path == "/v1" || strings.HasPrefix(path, "/v1/") {
		return maxV1Body
	}
	if strings.HasPrefix(path, "/api/profiles") {
		return maxProfileBody
	}
	return maxAuthBody
}

// requestTimeout is the route's time limit, given the limit of ordinary /api
// calls; 0 means none.
func requestTimeout(route string, api time.Duration) time.Duration {
	if !strings.HasPrefix(route, "/api/") || unboundedRoutes[route] {
		return 0
	}
	if d, ok := slowRoutes[route]; ok {
		return *d
	}
	return api
}

// limitRequest applies the body cap, the body read deadline and the route's time
// limit. A declared Content-Length over the cap is a 413 at once; a chunked body is
// cut past the cap and the request answered 413, whatever the handler made of the
// short read.
func (s *Server) limitRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := bodyLimit(r.URL.Path)
		if r.ContentLength > limit {
			return errBodyTooLarge(limit)
		}
		var body *cappedBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &cappedBody{ReadCloser: r.Body, left: limit}
			rc := http.NewResponseController(c.Response().Writer)
			if rc.SetReadDeadline(time.Now().Add(s.timing.BodyRead)) == nil {
				body.rc = rc
			}
			r.Body = body
		}
		err := s.withTimeout(c, next)
		if body != nil && body.exceeded && !c.Response().Committed {
			return errBodyTooLarge(limit)
		}
		return err
	}
}

func errBodyTooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "request body too large: at most %d bytes", limit)
}

// withTimeout runs next under the route's time limit, if it has one.
func (s *Server) withTimeout(c echo.Context, next echo.HandlerFunc) error {
	d := requestTimeout(c.Path(), s.timing.Request)
	if d == 0 {
		return next(c)
	}
	r := c.Request()
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	c.SetRequest(r.WithContext(ctx))
	err := next(c)
	c.SetRequest(r) // what runs after (the error handler, observe) sees the client's context
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "timeout",
			Message: "the request took longer than " + d.String() + " and was stopped", Err: err}
	}
	return err
}

// errBodyCapped is what a read past the body cap returns.
var errBodyCapped = errors.New("request body too large")

// cappedBody is a request body that ends in an error past left bytes and lifts
// the read deadline once it has been read to the end: the connection stays open
// for the response, and a deadline left on it would make net/http take a long
// stream's client for gone. After any other error the deadline stays, so net/http
// does not wait forever to discard what a stalled client never sends.
type cappedBody struct {
	io.ReadCloser
	left     int64
	exceeded bool
	rc       *http.ResponseController // nil: no deadline was set
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.exceeded {
		return 0, errBodyCapped
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the cap tells a longer body from one that fits
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		b.exceeded = true
		return int(b.left), errBodyCapped
	}
	b.left -= int64(n)
	if errors.Is(err, io.EOF) && b.rc != nil {
		b.rc.SetReadDeadline(time.Time{})
		b.rc = nil
	}
	return n, err
}

// auditPanic records a recovered handler panic. /v1 requests are already audited
// by auditV1 with their 500; other routes get an event of their own, so a crash
// that a user can trigger shows in the log an administrator reads.
func (s *Server) auditPanic(c echo.Context) {
	if s.metrics != nil {
		s.metrics.panics.With().Inc()
	}
	if _, ok := c.Get(ctxAudit).(*auditRec); ok {
		return
	}
	s.audit(c, store.AuditEvent{Action: "server.panic", Status: store.AuditError, HTTPStatus: http.StatusInternalServerError,
		ErrorType: "server_error", ErrorMessage: "internal error", Detail: "route " + c.Path()})
}
