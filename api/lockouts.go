package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
)

// lockStore keeps the sign-in throttle's counters in the store's lockouts records.
type lockStore struct{ r store.Records }

func (l lockStore) Load() (map[string]auth.Lock, error) {
	raw, err := l.r.ByID()
	if err != nil {
		return nil, err
	}
	out := make(map[string]auth.Lock, len(raw))
	for k, v := range raw {
		var lk auth.Lock
		if err := json.Unmarshal(v, &lk); err != nil {
			return nil, fmt.Errorf("lockout %q: %w", k, err)
		}
		out[k] = lk
	}
	return out, nil
}

func (l lockStore) Save(key string, lk auth.Lock) error { return l.r.Put(key, lk) }
func (l lockStore) Delete(key string) error             { return l.r.Delete(key) }

// loginClient names the client of a sign-in to u for the throttle: its device id
// when it brings a device cookie issued for u, its address otherwise (see
// auth.Throttle for why the address alone cannot be enough on loopback).
func (s *Server) loginClient(c echo.Context, u store.User) (client string, known bool) {
	if u.ID != "" {
		if ck, err := c.Cookie(auth.DeviceCookie); err == nil {
			if id, ok := s.auth.tokens.VerifyDevice(u.ID, ck.Value); ok {
				return auth.ClientDevice(id), true
			}
		}
	}
	return auth.ClientAddr(clientIP(c), isLoopbackClient(c)), false
}

// setDeviceCookie marks this client as known to u after a successful sign-in. The
// cookie is only sent back to the sign-in route, and scripts cannot read it.
func (s *Server) setDeviceCookie(c echo.Context, u store.User) {
	c.SetCookie(&http.Cookie{
		Name: auth.DeviceCookie, Value: s.auth.tokens.Device(u.ID), Path: "/api/auth/login",
		MaxAge: int((365 * 24 * time.Hour) / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// auditLockouts records each counter that has just started refusing.
func (s *Server) auditLockouts(c echo.Context, u store.User, events []auth.LockEvent) {
	for _, ev := range events {
		s.audit(c, store.AuditEvent{Action: "auth.lockout", Status: store.AuditError, Target: u.ID, UserEmail: ev.Account,
			Detail: fmt.Sprintf("%s lockout of account %q client %q until %s", ev.Scope, ev.Account, ev.Client, ev.Until.UTC().Format(time.RFC3339))})
	}
}

func (s *Server) handleListLockouts(c echo.Context) error {
	locks := s.auth.throttle.Active()
	if locks == nil {
		locks = []auth.ActiveLock{}
	}
	return c.JSON(http.StatusOK, locks)
}

// handleClearLockouts lifts every sign-in lockout of a user's account.
func (s *Server) handleClearLockouts(c echo.Context) error {
	u, err := s.store.Users().Get(c.Param("id"))
	if err != nil {
		return userError(err)
	}
	n, err := s.auth.throttle.Clear(u.Email)
	if err != nil {
		return fmt.Errorf("clear lockouts of %s: %w", u.ID, err)
	}
	s.audit(c, store.AuditEvent{Action: "auth.lockout_clear", Target: u.ID, Detail: fmt.Sprintf("%s: %d counters cleared", u.Email, n)})
	return c.JSON(http.StatusOK, map[string]int{"cleared": n})
}
