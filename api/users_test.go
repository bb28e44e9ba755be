package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
)

func TestRegister(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	first := s.Register(t, "  Admin@Example.com ", apitest.Password)
	if first.Email != "admin@example.com" || !first.IsAdmin || first.Status != "approved" {
		t.Fatalf("first user = %+v, want a normalised approved admin", first)
	}
	second := s.Register(t, "bob@example.com", "12345678")
	if second.IsAdmin || second.Status != "pending" {
		t.Fatalf("second user = %+v, want pending", second)
	}

	reg := func(email, pw string) map[string]string { return map[string]string{"email": email, "password": pw} }
	cases := []struct {
		name      string
		body      any
		want      int
		wantParam string
	}{
		{"invalid email", reg("not-an-email", apitest.Password), 422, "email"},
		{"display-name address", reg("Bob <bob2@example.com>", apitest.Password), 422, "email"},
		{"empty email", reg("", apitest.Password), 422, "email"},
		{"password too short", reg("c@example.com", "1234567"), 422, "password"},
		{"password too long", reg("c@example.com", strings.Repeat("x", 129)), 422, "password"},
		{"missing password", map[string]string{"email": "c@example.com"}, 422, "password"},
		{"malformed JSON", `{"email": "c@example.com", "password": `, 400, ""},
		{"wrong JSON type", `{"email": 5, "password": "12345678"}`, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := s.Error(t, "POST", "/api/auth/register", "", tc.body, tc.want)
			if tc.wantParam != "" && (e.Param == nil || *e.Param != tc.wantParam) {
				t.Fatalf("param = %v, want %q (%s)", e.Param, tc.wantParam, e.Message)
			}
		})
	}
	// Limits are in characters, not bytes.
	s.Register(t, "d@example.com", strings.Repeat("é", 128))
	s.Register(t, "e@example.com", "пароль12")
	s.Error(t, "POST", "/api/auth/register", "", url.Values{"email": {"f@example.com"}, "password": {"12345678"}}, 415)
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func TestLogin(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	pending := s.Register(t, "pending@example.com", apitest.Password)
	disabled, _ := s.ApprovedUser(t, admin, "disabled@example.com")
	s.JSON(t, "PUT", "/api/auth/users/"+disabled.ID, admin, map[string]string{"status": "disabled"}, 200, nil)

	t.Run("json", func(t *testing.T) {
		var tok tokenResponse
		s.JSON(t, "POST", "/api/auth/login", "", map[string]string{"email": " ADMIN@example.com", "password": apitest.Password}, 200, &tok)
		if tok.AccessToken == "" || tok.TokenType != "bearer" || tok.ExpiresIn != 7*24*3600 {
			t.Fatalf("token response = %+v", tok)
		}
		var me apitest.User
		s.JSON(t, "GET", "/api/auth/me", tok.AccessToken, nil, 200, &me)
		if me.Email != apitest.AdminEmail || !me.IsAdmin {
			t.Fatalf("me = %+v", me)
		}
	})
	t.Run("oauth2 password form", func(t *testing.T) {
		var tok tokenResponse
		form := url.Values{"grant_type": {"password"}, "username": {apitest.AdminEmail}, "password": {apitest.Password}}
		s.JSON(t, "POST", "/api/auth/login", "", form, 200, &tok)
		if tok.AccessToken == "" {
			t.Fatal("no token from the form login")
		}
		form.Set("grant_type", "client_credentials")
		s.Error(t, "POST", "/api/auth/login", "", form, 400)
	})
	t.Run("wrong password and unknown email look the same", func(t *testing.T) {
		wrong := s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": apitest.AdminEmail, "password": "wrong password"}, 401)
		unknown := s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": "ghost@example.com", "password": "wrong password"}, 401)
		if wrong.Message != unknown.Message || *wrong.Code != *unknown.Code || wrong.Type != "authentication_error" {
			t.Fatalf("wrong password %+v vs unknown email %+v", wrong, unknown)
		}
	})
	t.Run("pending and disabled say which", func(t *testing.T) {
		e := s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": pending.Email, "password": apitest.Password}, 403)
		if !strings.Contains(e.Message, "pending") {
			t.Fatalf("pending login: %q", e.Message)
		}
		e = s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": disabled.Email, "password": apitest.Password}, 403)
		if !strings.Contains(e.Message, "disabled") {
			t.Fatalf("disabled login: %q", e.Message)
		}
		// Without the right password the state of the account is not revealed.
		s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": pending.Email, "password": "wrong password"}, 401)
	})
	t.Run("missing fields", func(t *testing.T) {
		s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": apitest.AdminEmail}, 422)
		s.Error(t, "POST", "/api/auth/login", "", "[]", 400)
	})
}

// loginAs signs in with an optional device cookie and returns the response and the
// device cookie the server set, if any.
func loginAs(t *testing.T, s *apitest.Server, email, pw, device string) (*http.Response, string) {
	t.Helper()
	j, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	req, err := http.NewRequest("POST", s.URL+"/api/auth/login", bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if device != "" {
		req.AddCookie(&http.Cookie{Name: auth.DeviceCookie, Value: device})
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == auth.DeviceCookie {
			return resp, c.Value
		}
	}
	return resp, ""
}

func TestLoginRateLimit(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	s.Admin(t)
	login := func(email, pw string) *http.Response {
		resp, _ := loginAs(t, s, email, pw, "")
		return resp
	}

	t.Run("per client back-off", func(t *testing.T) {
		for i := range 4 {
			if resp := login(apitest.AdminEmail, "wrong password"); resp.StatusCode != 401 {
				t.Fatalf("failure %d: status %d", i+1, resp.StatusCode)
			}
		}
		// Three failures are free; after the 4th the guessing client waits 1 s, even
		// with the right password, so guessing gains nothing.
		resp := login(apitest.AdminEmail, apitest.Password)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("after 4 failures: status %d, Retry-After %q; want 429, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		s.Clock.Advance(time.Second)
		if resp := login(apitest.AdminEmail, "wrong password"); resp.StatusCode != 401 {
			t.Fatalf("5th failure: status %d", resp.StatusCode)
		}
		if resp := login(apitest.AdminEmail, apitest.Password); resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("after 5 failures: status %d, Retry-After %q; want 429, 2", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		s.Clock.Advance(2 * time.Second)
		if resp := login(apitest.AdminEmail, apitest.Password); resp.StatusCode != 200 {
			t.Fatalf("after the back-off: status %d", resp.StatusCode)
		}
	})
	t.Run("per address", func(t *testing.T) {
		s.Clock.Advance(16 * time.Minute)
		for i := range 20 {
			// A different account each time: only the per-address limit can trip.
			if resp := login("spray"+string(rune('a'+i))+"@example.com", "wrong password"); resp.StatusCode != 401 {
				t.Fatalf("failure %d: status %d", i+1, resp.StatusCode)
			}
		}
		resp := login(apitest.AdminEmail, apitest.Password)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("after 20 failures from one address: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}

// Finding 1 of issue #27: anyone could lock any account (5 wrong passwords, then the
// right one refused from everywhere for 900 s). A device that signed in before keeps
// getting in while a stranger hammers the account.
func TestLoginStrangerCannotLockOwnerOut(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	resp, device := loginAs(t, s, apitest.AdminEmail, apitest.Password, "")
	if resp.StatusCode != 200 || device == "" {
		t.Fatalf("first login: status %d, device cookie %q", resp.StatusCode, device)
	}
	refused := 0
	for range 40 {
		resp, _ := loginAs(t, s, apitest.AdminEmail, "wrong password", "")
		if resp.StatusCode == 429 {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("the guessing client was never slowed down")
	}
	if resp, _ := loginAs(t, s, apitest.AdminEmail, apitest.Password, device); resp.StatusCode != 200 {
		t.Fatalf("owner's login from a known device during the attack: status %d, want 200", resp.StatusCode)
	}
	// A cookie issued to another account does not count as known here.
	s.ApprovedUser(t, admin, "bob@example.com")
	_, bobDevice := loginAs(t, s, "bob@example.com", apitest.Password, "")
	if resp, _ := loginAs(t, s, apitest.AdminEmail, apitest.Password, bobDevice); resp.StatusCode != 429 {
		t.Fatalf("admin login with bob's device cookie: status %d, want 429", resp.StatusCode)
	}
}

// Finding 2 of issue #27: 20 failures from one process blocked every login from
// 127.0.0.1, that is from everyone on the machine.
func TestLoginOneProcessCannotLockOutEveryone(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	s.Admin(t)
	_, device := loginAs(t, s, apitest.AdminEmail, apitest.Password, "")
	for i := range 25 {
		loginAs(t, s, fmt.Sprintf("spray%d@example.com", i), "wrong password", "")
	}
	if resp, _ := loginAs(t, s, apitest.AdminEmail, apitest.Password, device); resp.StatusCode != 200 {
		t.Fatalf("known device after another process sprayed from loopback: status %d, want 200", resp.StatusCode)
	}
}

func TestLockoutSurvivesRestartAndAdminClears(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	bob, bobTok := s.ApprovedUser(t, admin, "bob@example.com")
	for range 25 {
		loginAs(t, s, "bob@example.com", "wrong password", "")
	}
	var page struct {
		Events []store.AuditEvent `json:"events"`
	}
	s.JSON(t, "GET", "/api/system/audit-logs?action=auth.lockout", admin, nil, 200, &page)
	if len(page.Events) == 0 {
		t.Fatal("no auth.lockout event in the audit log")
	}

	// A second server over the same store stands in for a restart.
	again := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) { o.Store = s.Store; o.Now = s.Clock.Now }})
	if resp, _ := loginAs(t, again, "bob@example.com", apitest.Password, ""); resp.StatusCode != 429 {
		t.Fatalf("after restart: status %d, want 429", resp.StatusCode)
	}
	var locks []auth.ActiveLock
	again.JSON(t, "GET", "/api/auth/lockouts", admin, nil, 200, &locks)
	if len(locks) == 0 {
		t.Fatal("admin sees no lockouts")
	}
	again.Error(t, "DELETE", "/api/auth/users/"+bob.ID+"/lockouts", bobTok, nil, 403)
	var cleared map[string]int
	again.JSON(t, "DELETE", "/api/auth/users/"+bob.ID+"/lockouts", admin, nil, 200, &cleared)
	if cleared["cleared"] == 0 {
		t.Fatalf("cleared %v", cleared)
	}
	if resp, _ := loginAs(t, again, "bob@example.com", apitest.Password, ""); resp.StatusCode != 200 {
		t.Fatalf("after the admin cleared: status %d, want 200", resp.StatusCode)
	}
}

func TestTokens(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	tok := s.Admin(t)
	other := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) {
		o.JWTSecret = []byte("another-secret-for-another-daemon-xyz")
	}})
	foreign := other.Admin(t)

	cases := []struct {
		name, token, path string
		header            map[string]string
		want              int
		wantCode          string
	}{
		{name: "no credentials", path: "/api/auth/me", want: 401, wantCode: "missing_credentials"},
		{name: "garbage", token: "not.a.jwt", path: "/api/auth/me", want: 401, wantCode: "invalid_token"},
		{name: "foreign token", token: foreign, path: "/api/auth/me", want: 401, wantCode: "invalid_token"},
		{name: "unknown api key", token: "mlxm-0000000000000000000000000000000000000000000", path: "/api/auth/me", want: 401, wantCode: "invalid_api_key"},
		{name: "query token ignored on /api", path: "/api/auth/me?token=" + tok, want: 401, wantCode: "missing_credentials"},
		{name: "basic auth ignored", path: "/api/auth/me", header: map[string]string{"Authorization": "Basic " + tok}, want: 401, wantCode: "missing_credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.URL+tc.path, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := s.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want || resp.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			e := s.Error(t, "GET", tc.path, tc.token, nil, tc.want)
			if e.Code == nil || *e.Code != tc.wantCode {
				t.Fatalf("code = %v, want %s (%s)", e.Code, tc.wantCode, e.Message)
			}
		})
	}

	t.Run("expiry", func(t *testing.T) {
		s.JSON(t, "GET", "/api/auth/me", tok, nil, 200, nil)
		s.Clock.Advance(7*24*3600*1e9 - 1e9)
		s.JSON(t, "GET", "/api/auth/me", tok, nil, 200, nil)
		s.Clock.Advance(2e9)
		if e := s.Error(t, "GET", "/api/auth/me", tok, nil, 401); *e.Code != "token_expired" {
			t.Fatalf("expired token: %+v", e)
		}
	})
}

// Finding 4 of issue #27: 1,000 registrations in a burst were all accepted, each
// costing an Argon2 hash. Now a rate and a cap on pending accounts stop a flood.
func TestRegistrationCaps(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"max_pending_accounts": 3, "registrations_per_hour": 6}, 200, nil)
	for i := range 3 {
		s.Register(t, fmt.Sprintf("p%d@example.com", i), apitest.Password)
	}
	e := s.Error(t, "POST", "/api/auth/register", "", map[string]string{"email": "p9@example.com", "password": apitest.Password}, 503)
	if e.Code == nil || *e.Code != "registration_closed" {
		t.Fatalf("pending cap: %+v", e)
	}
	var pending []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	s.JSON(t, "GET", "/api/auth/users", admin, nil, 200, &pending)
	for _, u := range pending {
		if u.Status == "pending" {
			s.JSON(t, "PUT", "/api/auth/users/"+u.ID, admin, map[string]any{"status": "approved"}, 200, nil)
		}
	}
	// Room again for pending accounts, but the hourly rate (6: the admin and three
	// so far; the refused one did not count) now binds.
	s.Register(t, "p3@example.com", apitest.Password)
	s.Register(t, "p4@example.com", apitest.Password)
	resp := s.Do(t, "POST", "/api/auth/register", "", map[string]string{"email": "p5@example.com", "password": apitest.Password})
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the rate: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.Clock.Advance(time.Hour)
	s.Register(t, "p5@example.com", apitest.Password)
}

func TestAPIKeyAndProfileCaps(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	_, user := s.ApprovedUser(t, admin, "bob@example.com")
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"max_api_keys_per_user": 2}, 200, nil)
	for i := range 2 {
		s.JSON(t, "POST", "/api/auth/api-keys", user, map[string]string{"name": fmt.Sprint("k", i)}, 201, nil)
	}
	if e := s.Error(t, "POST", "/api/auth/api-keys", user, map[string]string{"name": "k3"}, 403); e.Code == nil || *e.Code != "limit_reached" {
		t.Fatalf("third key: %+v", e)
	}
}
