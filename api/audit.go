package api

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

const ctxAudit = "audit.record"

// auditRec is the audit event of one /v1 request while it runs.
type auditRec struct {
	ev    store.AuditEvent
	start time.Time
	now   func() time.Time
}

// auditRecord returns the current /v1 request's audit event for its handler to fill:
// Model, PromptTokens, CompletionTokens, and ErrorType/ErrorMessage when it fails
// after the response was committed (a stream that breaks). The middleware writes it
// when the handler returns. Outside /v1 it returns a scratch event nobody writes.
func auditRecord(c echo.Context) *store.AuditEvent {
	if rec, ok := c.Get(ctxAudit).(*auditRec); ok {
		return &rec.ev
	}
	return &store.AuditEvent{}
}

// markFirstToken records the time to first token; only the first call counts.
func markFirstToken(c echo.Context) {
	if rec, ok := c.Get(ctxAudit).(*auditRec); ok && rec.ev.TTFTMS == 0 {
		rec.ev.TTFTMS = millis(rec.now().Sub(rec.start))
	}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// auditV1 records every /v1 request once its handler returns, which for a stream is
// when the stream ends, so the event has the real token counts and outcome. It runs
// outside requireV1 so that refused requests are recorded too.
func (s *Server) auditV1(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rec := &auditRec{start: s.now(), now: s.now}
		rec.ev.Time = rec.start
		c.Set(ctxAudit, rec)
		defer func() {
			if r := recover(); r != nil {
				s.finishV1(c, rec, Errorf(http.StatusInternalServerError, "internal error"))
				panic(r) // recoverPanic, outside, answers it
			}
		}()
		err := next(c)
		s.finishV1(c, rec, err)
		return err
	}
}

// v1Chain is the middleware of every /v1 route: auditV1 outside requireV1, so that
// refused requests are recorded too.
func (s *Server) v1Chain() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{s.auditV1, s.requireV1, s.requireQuota}
}

// statusClientClosed is nginx's code for a client that left before the answer.
const statusClientClosed = 499

func (s *Server) finishV1(c echo.Context, rec *auditRec, err error) {
	ev := rec.ev
	resp := c.Response()
	ev.Action = v1ActionOf(c.Path())
	ev.DurationMS = millis(s.now().Sub(rec.start))
	code := resp.Status
	if err != nil {
		e := toError(err)
		if !resp.Committed {
			code = e.Status
		}
		if ev.ErrorType == "" {
			ev.ErrorType, ev.ErrorMessage = e.Type, e.Message
		}
	}
	switch {
	case c.Request().Context().Err() != nil:
		ev.Status = store.AuditCancelled
		if !resp.Committed {
			code = statusClientClosed
		}
		if ev.ErrorType == "" || err != nil {
			ev.ErrorType, ev.ErrorMessage = "cancelled", "client disconnected"
		}
	case code >= 400 || ev.ErrorType != "":
		ev.Status = store.AuditError
	default:
		ev.Status = store.AuditSuccess
	}
	ev.HTTPStatus = code
	s.queueAudit(s.auditFields(c, ev), nil)
}

// v1Actions memoizes v1Action by route template: one entry per route, and
// every /v1 request asks.
var v1Actions sync.Map // route → action

func v1ActionOf(route string) string {
	if a, ok := v1Actions.Load(route); ok {
		return a.(string)
	}
	a := v1Action(route)
	v1Actions.Store(route, a)
	return a
}

// v1Action names a /v1 route as an action: /v1/chat/completions is
// v1.chat.completions, /v1/models/:id is v1.models; unknown paths are plain v1.
func v1Action(route string) string {
	if ollamaPaths[route] {
		return "ollama." + strings.TrimPrefix(route, "/api/")
	}
	parts := []string{"v1"}
	for _, seg := range strings.Split(strings.TrimPrefix(route, "/v1"), "/") {
		if seg != "" && seg[0] != ':' && seg[0] != '*' {
			parts = append(parts, seg)
		}
	}
	return strings.Join(parts, ".")
}

// audit records a security-relevant action, filling in what the request knows
// (request id, client, user, API key, endpoint), and returns once it is
// written. Failing to write is logged, never returned: the action already
// happened.
func (s *Server) audit(c echo.Context, ev store.AuditEvent) {
	s.recordAudit(s.auditFields(c, ev))
}

// auditFields fills in what the request knows of ev.
func (s *Server) auditFields(c echo.Context, ev store.AuditEvent) store.AuditEvent {
	r := c.Request()
	if ev.RequestID == "" {
		ev.RequestID = requestID(c)
	}
	if ev.ClientIP == "" {
		ev.ClientIP = clientIP(c)
	}
	if u, ok := currentUser(c); ok && ev.UserID == "" {
		ev.UserID, ev.UserEmail = u.ID, u.Email
	}
	if ev.APIKeyID == "" {
		ev.APIKeyID = apiKeyID(c)
	}
	if ev.Endpoint == "" {
		ev.Endpoint = r.Method + " " + r.URL.Path // never the query: it may hold ?token=
	}
	return ev
}

// recordAudit writes ev and returns once it is committed. For events with no
// request behind them (a model unloaded by its TTL).
func (s *Server) recordAudit(ev store.AuditEvent) {
	wrote := make(chan struct{})
	s.queueAudit(ev, func() { close(wrote) })
	<-wrote
}

// queueAudit hands ev to the store's committer and returns at once: a finished
// /v1 request's response ends without waiting for the disk, and its event goes
// in the next shared transaction (store.Audit.AppendAsync). Once committed it
// goes to the live watchers, in the order of the log, and then then is called
// (it may be nil). Queries of the log and the store's Close wait for it.
func (s *Server) queueAudit(ev store.AuditEvent, then func()) {
	if ev.Status == "" {
		ev.Status = store.AuditSuccess
	}
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	s.store.Audit().AppendAsync(ev, func(saved store.AuditEvent, err error) {
		if err != nil {
			s.log.Error("write audit event", "action", ev.Action, "err", err)
		} else {
			s.audits.publish(saved)
		}
		if then != nil {
			then()
		}
	})
}

// auditSubBuffer is how many events a live watcher may lag behind before it is
// dropped: a stuck client costs a bounded buffer, never a blocked request.
const auditSubBuffer = 64

// auditHub fans committed audit events out to WebSocket watchers.
type auditHub struct {
	mu   sync.Mutex // guards subs
	subs map[*auditSub]struct{}
}

type auditSub struct {
	events chan store.AuditEvent
	gone   chan struct{} // closed when the hub dropped this watcher for lagging
}

func newAuditHub() *auditHub { return &auditHub{subs: map[*auditSub]struct{}{}} }

func (h *auditHub) subscribe() *auditSub {
	sub := &auditSub{events: make(chan store.AuditEvent, auditSubBuffer), gone: make(chan struct{})}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *auditHub) unsubscribe(sub *auditSub) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// publish never blocks: a watcher whose buffer is full is dropped.
func (h *auditHub) publish(ev store.AuditEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		select {
		case sub.events <- ev:
		default:
			delete(h.subs, sub)
			close(sub.gone)
		}
	}
}
