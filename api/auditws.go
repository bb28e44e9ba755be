package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

const (
	auditWSRecent     = 50
	auditWriteTimeout = 10 * time.Second
	// wsCloseGrace is how long a closing handshake may take: a client that does not
	// answer must not hold up shutdown for the library's own 5 s + 5 s.
	wsCloseGrace = time.Second
)

// auditMessage is one WebSocket message: first a snapshot of the recent events
// (oldest first), then one "event" message per new event.
type auditMessage struct {
	Type   string             `json:"type"` // "snapshot" or "event"
	Events []store.AuditEvent `json:"events,omitempty"`
	Event  *store.AuditEvent  `json:"event,omitempty"`
}

// handleAuditWS streams the audit log live. requireUserOrQueryToken has already
// authenticated the request, so a refused client never got past the handshake.
func (s *Server) handleAuditWS(c echo.Context) error {
	s.hijacked.Add(1)
	defer s.hijacked.Done()
	u, _ := currentUser(c)
	visible := func(ev *store.AuditEvent) bool { return u.IsAdmin || ev.UserID == u.ID }
	// Subscribe before reading the snapshot so nothing falls in between; events in
	// both are skipped by id.
	sub := s.audits.subscribe()
	defer s.audits.unsubscribe(sub)
	f := store.AuditFilter{Limit: auditWSRecent}
	if !u.IsAdmin {
		f.UserID = u.ID
	}
	recent, err := s.store.Audit().Query(f)
	if err != nil {
		return err
	}
	hj := &hijackRecorder{ResponseWriter: c.Response()}
	conn, err := websocket.Accept(hj, c.Request(), nil)
	if err != nil {
		return nil // Accept has answered the bad handshake itself
	}
	defer conn.CloseNow()
	closeWS := func(code websocket.StatusCode, reason string) { closeGracefully(conn, hj.conn, code, reason) }
	// After the hijack the request's context is no longer reliable; CloseRead's
	// context ends when the client goes away.
	ctx := conn.CloseRead(context.Background())

	snapshot := auditMessage{Type: "snapshot", Events: []store.AuditEvent{}}
	last := ""
	for i := len(recent.Events) - 1; i >= 0; i-- {
		snapshot.Events = append(snapshot.Events, recent.Events[i])
		last = recent.Events[i].ID
	}
	if err := s.wsWrite(ctx, conn, snapshot); err != nil {
		return nil
	}
	ping := time.NewTicker(s.timing.AuditPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			closeWS(websocket.StatusGoingAway, "server shutting down")
			return nil
		case <-sub.gone:
			closeWS(websocket.StatusTryAgainLater, "client too slow: reconnect")
			return nil
		case ev := <-sub.events:
			if ev.ID <= last || !visible(&ev) {
				continue
			}
			if err := s.wsWrite(ctx, conn, auditMessage{Type: "event", Event: &ev}); err != nil {
				return nil
			}
		case <-ping.C:
			// A long-lived watch must end when its user is disabled or deleted, or its
			// token expires, like any request would.
			if err := s.authenticate(c, credential(c, true)); err != nil {
				closeWS(websocket.StatusPolicyViolation, "credentials no longer valid")
				return nil
			}
			pctx, cancel := context.WithTimeout(ctx, auditWriteTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return nil
			}
		}
	}
}

// hijackRecorder keeps the connection websocket.Accept hijacks, so that a closing
// handshake the client never answers can be cut short.
type hijackRecorder struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.conn = conn
	return conn, rw, err
}

// closeGracefully sends a close frame and waits up to wsCloseGrace for the client's
// reply, then drops the connection: the library alone would wait 5 s + 5 s.
func closeGracefully(conn *websocket.Conn, raw net.Conn, code websocket.StatusCode, reason string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn.Close(code, reason)
	}()
	select {
	case <-done:
	case <-time.After(wsCloseGrace):
		raw.Close()
		<-done
	}
}

// wsWrite sends one JSON message, giving up on a client that does not take it in time.
func (s *Server) wsWrite(ctx context.Context, conn *websocket.Conn, v any) error {
	ctx, cancel := context.WithTimeout(ctx, auditWriteTimeout)
	defer cancel()
	return wsjson.Write(ctx, conn, v)
}

// waitHijacked waits for the WebSocket handlers, which end once s.done is closed, so
// nothing touches the store after Shutdown returns.
func (s *Server) waitHijacked(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.hijacked.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close websockets: %w", ctx.Err())
	}
}
