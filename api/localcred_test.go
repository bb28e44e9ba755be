package api_test

import (
	"net/http/httptest"
	"testing"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
)

func TestLocalCredential(t *testing.T) {
	const cred = "mlxl-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	s := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) { o.LocalCredential = cred }})

	// Before the first account there is no owner to act as.
	if e := s.Error(t, "GET", "/api/auth/me", cred, nil, 403); e.Code == nil || *e.Code != "no_admin" {
		t.Fatalf("before any account: %+v", e)
	}
	admin := s.Admin(t)
	_, _ = s.ApprovedUser(t, admin, "alice@example.com")

	var me struct {
		Email   string `json:"email"`
		IsAdmin bool   `json:"is_admin"`
	}
	s.JSON(t, "GET", "/api/auth/me", cred, nil, 200, &me)
	if me.Email != apitest.AdminEmail || !me.IsAdmin {
		t.Fatalf("the local credential acts as %+v, want the admin", me)
	}
	// It makes the CLI's own key, which then works alone.
	var key struct {
		Key string `json:"key"`
	}
	s.JSON(t, "POST", "/api/auth/api-keys", cred, map[string]string{"name": "mlx-manager CLI"}, 201, &key)
	s.JSON(t, "GET", "/api/auth/api-keys", key.Key, nil, 200, nil)

	for name, bad := range map[string]string{
		"one character off": cred[:len(cred)-1] + "H",
		"a prefix of it":    cred[:20],
	} {
		t.Run(name, func(t *testing.T) {
			s.Error(t, "GET", "/api/auth/me", bad, nil, 401)
		})
	}

	// From another machine the credential is worthless.
	req := httptest.NewRequest("GET", "/api/auth/me", nil)
	req.Host, req.RemoteAddr = "127.0.0.1", "192.0.2.7:40000"
	req.Header.Set("Authorization", "Bearer "+cred)
	w := httptest.NewRecorder()
	s.API.Handler().ServeHTTP(w, req)
	if w.Code != 401 {
		t.Fatalf("local credential from a remote client: status %d: %s", w.Code, w.Body)
	}
}

func TestNoLocalCredential(t *testing.T) {
	// A server given none accepts no empty or prefix-only value as one.
	s := apitest.Start(t, apitest.Options{})
	s.Admin(t)
	s.Error(t, "GET", "/api/auth/me", "mlxl-", nil, 401)
}
