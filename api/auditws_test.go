package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/store"
)

type auditMessage struct {
	Type   string             `json:"type"`
	Events []store.AuditEvent `json:"events"`
	Event  *store.AuditEvent  `json:"event"`
}

const auditWSPath = "/api/system/ws/audit-logs"

func dialAudit(t *testing.T, s *apitest.Server, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, s.WSURL(auditWSPath+query), &websocket.DialOptions{HTTPHeader: header})
	if conn != nil {
		t.Cleanup(func() { conn.CloseNow() })
	}
	return conn, resp, err
}

func readAudit(t *testing.T, conn *websocket.Conn) auditMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m auditMessage
	if err := wsjson.Read(ctx, conn, &m); err != nil {
		t.Fatalf("read audit message: %v", err)
	}
	return m
}

func TestAuditWSRefusesHandshake(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	u, tok := s.ApprovedUser(t, admin, "user@example.com")
	var key struct{ Key string }
	s.JSON(t, "POST", "/api/auth/api-keys", tok, map[string]string{"name": "k"}, 201, &key)
	s.JSON(t, "PUT", "/api/auth/users/"+u.ID, admin, map[string]string{"status": "pending"}, 200, nil)
	expired := s.Login(t, apitest.AdminEmail, apitest.Password)

	cases := []struct {
		name  string
		query string
		want  int
	}{
		{"no token", "", 401},
		{"invalid token", "?token=not.a.jwt", 401},
		{"unknown api key", "?token=mlxm-nope", 401},
		{"session of a user sent back to pending", "?token=" + tok, 401},
		{"api key of a user who is not approved", "?token=" + key.Key, 403},
		{"expired token", "?token=" + expired, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "expired token" {
				s.Clock.Advance(8 * 24 * time.Hour)
				defer s.Clock.Advance(-8 * 24 * time.Hour)
			}
			conn, resp, err := dialAudit(t, s, tc.query, nil)
			if err == nil || conn != nil {
				t.Fatal("handshake accepted")
			}
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("response %v, want status %d (err %v)", resp, tc.want, err)
			}
			if resp.Header.Get("Upgrade") != "" {
				t.Fatal("refused handshake carries an Upgrade header")
			}
		})
	}
}

func TestAuditWSLive(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	alice, aliceTok := s.ApprovedUser(t, admin, "alice@example.com")

	// The admin watches with ?token=, alice with the Authorization header.
	adminConn, _, err := dialAudit(t, s, "?token="+admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	aliceConn, _, err := dialAudit(t, s, "", http.Header{"Authorization": {"Bearer " + aliceTok}})
	if err != nil {
		t.Fatal(err)
	}

	snap := readAudit(t, adminConn)
	if snap.Type != "snapshot" || len(snap.Events) < 5 {
		t.Fatalf("admin snapshot = %s with %d events", snap.Type, len(snap.Events))
	}
	for i := 1; i < len(snap.Events); i++ {
		if snap.Events[i-1].ID >= snap.Events[i].ID {
			t.Fatal("snapshot is not oldest first")
		}
	}
	aliceSnap := readAudit(t, aliceConn)
	for _, e := range aliceSnap.Events {
		if e.UserID != alice.ID {
			t.Fatalf("alice's snapshot has another user's event: %+v", e)
		}
	}

	// An admin action (alice does not see it), then one of alice's.
	s.Register(t, "carol@example.com", apitest.Password)
	s.JSON(t, "POST", "/api/auth/api-keys", aliceTok, map[string]string{"name": "live"}, 201, nil)

	if m := readAudit(t, adminConn); m.Type != "event" || m.Event.Action != "auth.register" {
		t.Fatalf("admin got %+v", m)
	}
	if m := readAudit(t, adminConn); m.Event.Action != "apikey.create" {
		t.Fatalf("admin got %+v", m.Event)
	}
	if m := readAudit(t, aliceConn); m.Type != "event" || m.Event.Action != "apikey.create" || m.Event.UserID != alice.ID {
		t.Fatalf("alice got %+v", m.Event)
	}
}

// A watcher whose user is disabled is cut off at the next ping.
func TestAuditWSEndsWhenUserDisabled(t *testing.T) {
	s := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) { o.Timing.AuditPing = 20 * time.Millisecond }})
	admin := s.Admin(t)
	u, tok := s.ApprovedUser(t, admin, "user@example.com")
	conn, _, err := dialAudit(t, s, "?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAudit(t, conn)
	s.JSON(t, "PUT", "/api/auth/users/"+u.ID, admin, map[string]string{"status": "disabled"}, 200, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m auditMessage
	err = wsjson.Read(ctx, conn, &m)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("read after disable: %v, want a policy-violation close", err)
	}
}

// Shutdown closes watchers instead of waiting for them, even one that stopped reading.
func TestAuditWSShutdown(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	reading, _, err := dialAudit(t, s, "?token="+admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAudit(t, reading)
	stuck, _, err := dialAudit(t, s, "?token="+admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = stuck // never read again

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		var m auditMessage
		readErr <- wsjson.Read(ctx, reading, &m)
	}()
	if err := s.API.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var ce websocket.CloseError
	if err := <-readErr; !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
		t.Fatalf("read after shutdown: %v, want going-away", err)
	}
}
