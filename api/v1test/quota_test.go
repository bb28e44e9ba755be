package v1test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/api/auth"
)

// Issue #27: a quota of tokens per day, per API key and per user, counted from the
// real usage of real generations, refused with 429 and Retry-After until midnight
// UTC, and kept across a restart (read back from the audit log).
func TestTokensPerDayQuota(t *testing.T) {
	e := start(t, envOptions{})
	admin := e.Login(t, apitest.AdminEmail, apitest.Password)
	e.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"quota_key_tokens_per_day": 40}, http.StatusOK, nil)

	used := 0
	for used < 40 {
		r := e.chat(t, map[string]any{"max_tokens": 8})
		used += r.Usage.TotalTokens
	}
	refused := func(srv *apitest.Server) {
		t.Helper()
		resp := srv.Do(t, "POST", "/v1/chat/completions", e.key, chatBody(map[string]any{"max_tokens": 2}))
		defer resp.Body.Close()
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		now := e.Clock.Now().UTC()
		toMidnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
		after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || body.Error.Code != "quota_exceeded" ||
			time.Duration(after)*time.Second < toMidnight || time.Duration(after)*time.Second > toMidnight+time.Second {
			t.Fatalf("after %d tokens of 40: %d, Retry-After %q (midnight in %v), %+v", used, resp.StatusCode, resp.Header.Get("Retry-After"), toMidnight, body.Error)
		}
	}
	refused(e.Server)

	// The admin's own session is another subject with no token quota.
	e.JSON(t, "POST", "/v1/chat/completions", admin, chatBody(map[string]any{"max_tokens": 2}), http.StatusOK, nil)

	// A restart of the API on the same database: the key is still over its quota.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	params := auth.TestParams
	again, err := api.New(api.Options{Addr: ln.Addr().String(), Version: "test", Store: e.Store, Engine: e.eng, Now: e.Clock.Now,
		Logger: quiet(), JWTSecret: []byte("apitest-jwt-secret-0123456789abcdef"), PasswordParams: &params})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- again.Serve(ln) }()
	t.Cleanup(func() {
		again.Shutdown(context.Background())
		<-served
	})
	refused(&apitest.Server{URL: "http://" + ln.Addr().String(), Client: e.Client})

	// A new UTC day, a new budget.
	e.Clock.Advance(24 * time.Hour)
	e.call(t, "/v1/chat/completions", chatBody(map[string]any{"max_tokens": 2}), http.StatusOK, nil)
}
