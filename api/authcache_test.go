package api_test

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/api/apitest"
)

// Credentials, accounts and the auth settings are read from the store's cache
// on every /v1 request (store/readcache.go). Each change an admin or the user
// makes applies to the very next request, although the one before it filled
// the cache.
func TestV1CredentialChangesApplyAtOnce(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	bob, session := s.ApprovedUser(t, admin, "bob@example.com")
	key := s.APIKey(t, session, "ci")
	// The server runs no engine: a request that gets past authentication and
	// the quotas meets the handler's 503.
	const admitted = 503
	models := func(t *testing.T, cred string, want int) {
		t.Helper()
		for range 2 { // the second request is served from the cache
			s.Error(t, "GET", "/v1/models", cred, nil, want)
		}
	}
	setStatus := func(t *testing.T, status string) {
		t.Helper()
		s.JSON(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]string{"status": status}, 200, nil)
	}

	t.Run("disabled", func(t *testing.T) {
		models(t, key, admitted)
		models(t, session, admitted)
		setStatus(t, "disabled")
		models(t, key, 403)
		models(t, session, 401) // disabling ends the sessions too
		setStatus(t, "approved")
		models(t, key, admitted)
	})
	t.Run("back to pending", func(t *testing.T) {
		setStatus(t, "pending")
		models(t, key, 403)
		setStatus(t, "approved")
	})
	t.Run("quota lowered", func(t *testing.T) {
		models(t, key, admitted)
		s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"quota_key_per_minute": 1}, 200, nil)
		s.Error(t, "GET", "/v1/models", key, nil, admitted)
		if e := s.Error(t, "GET", "/v1/models", key, nil, 429); e.Code == nil || *e.Code != "quota_exceeded" {
			t.Fatalf("over the new quota: %+v", e)
		}
		s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"quota_key_per_minute": 0}, 200, nil)
		s.Error(t, "GET", "/v1/models", key, nil, admitted)
	})
	t.Run("password reset ends sessions", func(t *testing.T) {
		session := s.Login(t, "bob@example.com", apitest.Password) // disabling ended the first one
		models(t, session, admitted)
		s.JSON(t, "POST", "/api/auth/users/"+bob.ID+"/reset-password", admin, nil, 200, nil)
		if e := s.Error(t, "GET", "/v1/models", session, nil, 401); e.Code == nil || *e.Code != "session_revoked" {
			t.Fatalf("session after a password reset: %+v", e)
		}
		models(t, key, admitted) // keys outlive a password reset
	})
	t.Run("key revoked", func(t *testing.T) {
		models(t, key, admitted)
		var keys []struct {
			ID string `json:"id"`
		}
		s.JSON(t, "GET", "/api/auth/api-keys", key, nil, 200, &keys)
		if len(keys) != 1 {
			t.Fatalf("%d keys listed, want 1", len(keys))
		}
		s.JSON(t, "DELETE", "/api/auth/api-keys/"+keys[0].ID, key, nil, 204, nil)
		if e := s.Error(t, "GET", "/v1/models", key, nil, 401); e.Code == nil || *e.Code != "invalid_api_key" {
			t.Fatalf("revoked key: %+v", e)
		}
	})
	t.Run("user deleted", func(t *testing.T) {
		other := s.APIKey(t, admin, "admin's")
		models(t, other, admitted)
		_, carol := s.ApprovedUser(t, admin, "carol@example.com")
		carolKey := s.APIKey(t, carol, "carol's")
		models(t, carolKey, admitted)
		var users []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		}
		s.JSON(t, "GET", "/api/auth/users", admin, nil, 200, &users)
		for _, u := range users {
			if u.Email == "carol@example.com" {
				s.JSON(t, "DELETE", "/api/auth/users/"+u.ID, admin, nil, 204, nil)
			}
		}
		s.Error(t, "GET", "/v1/models", carolKey, nil, 401)
		models(t, other, admitted)
	})
}
