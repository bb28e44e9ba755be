package api_test

import (
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/api/apitest"
)

func TestAdminOnly(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	u, user := s.ApprovedUser(t, admin, "user@example.com")
	routes := []struct{ method, path string }{
		{"GET", "/api/auth/users"},
		{"GET", "/api/auth/users/pending/count"},
		{"PUT", "/api/auth/users/" + u.ID},
		{"DELETE", "/api/auth/users/" + u.ID},
		{"POST", "/api/auth/users/" + u.ID + "/reset-password"},
		{"GET", "/api/settings/auth"},
		{"PUT", "/api/settings/auth"},
		{"GET", "/api/settings/audit"},
		{"PUT", "/api/settings/audit"},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			s.Error(t, r.method, r.path, user, `{}`, 403)
			s.Error(t, r.method, r.path, "", `{}`, 401)
		})
	}
}

func TestUserAdministration(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	bob := s.Register(t, "bob@example.com", apitest.Password)
	s.Register(t, "carol@example.com", apitest.Password)

	var count struct{ Count int }
	s.JSON(t, "GET", "/api/auth/users/pending/count", admin, nil, 200, &count)
	if count.Count != 2 {
		t.Fatalf("pending count = %d, want 2", count.Count)
	}
	var users []map[string]any
	s.JSON(t, "GET", "/api/auth/users", admin, nil, 200, &users)
	if len(users) != 3 {
		t.Fatalf("%d users listed, want 3", len(users))
	}
	for _, u := range users {
		for _, secret := range []string{"password_hash", "token_gen", "password"} {
			if _, ok := u[secret]; ok {
				t.Fatalf("user listing exposes %s: %v", secret, u)
			}
		}
	}

	var got apitest.User
	s.JSON(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]any{"status": "approved", "is_admin": true}, 200, &got)
	if got.Status != "approved" || !got.IsAdmin {
		t.Fatalf("after approve+promote: %+v", got)
	}
	s.JSON(t, "GET", "/api/auth/users/pending/count", admin, nil, 200, &count)
	if count.Count != 1 {
		t.Fatalf("pending count = %d, want 1", count.Count)
	}
	s.Error(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]any{"status": "superuser"}, 422)
	s.Error(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]any{"role": "admin"}, 400)
	s.Error(t, "PUT", "/api/auth/users/nobody", admin, map[string]any{"status": "approved"}, 404)
	s.Error(t, "DELETE", "/api/auth/users/nobody", admin, nil, 404)

	s.JSON(t, "DELETE", "/api/auth/users/"+bob.ID, admin, nil, 204, nil)
	s.JSON(t, "GET", "/api/auth/users", admin, nil, 200, &users)
	if len(users) != 2 {
		t.Fatalf("%d users after delete, want 2", len(users))
	}
}

func TestLastAdminProtected(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	var me apitest.User
	s.JSON(t, "GET", "/api/auth/me", admin, nil, 200, &me)

	for name, body := range map[string]map[string]any{
		"demote":  {"is_admin": false},
		"disable": {"status": "disabled"},
		"pending": {"status": "pending"},
	} {
		t.Run(name, func(t *testing.T) {
			if e := s.Error(t, "PUT", "/api/auth/users/"+me.ID, admin, body, 409); *e.Code != "last_admin" {
				t.Fatalf("code = %v", *e.Code)
			}
		})
	}
	s.Error(t, "DELETE", "/api/auth/users/"+me.ID, admin, nil, 409)

	// With a second active admin, the first may step down.
	second, _ := s.ApprovedUser(t, admin, "second@example.com")
	s.JSON(t, "PUT", "/api/auth/users/"+second.ID, admin, map[string]any{"is_admin": true}, 200, nil)
	s.JSON(t, "PUT", "/api/auth/users/"+me.ID, admin, map[string]any{"is_admin": false}, 200, nil)
	// Rights are read per request: the demoted admin's token no longer administers.
	s.Error(t, "GET", "/api/auth/users", admin, nil, 403)
}

func TestPasswordReset(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	u, tok := s.ApprovedUser(t, admin, "user@example.com")

	var reset struct {
		User     apitest.User `json:"user"`
		Password string       `json:"password"`
	}
	s.JSON(t, "POST", "/api/auth/users/"+u.ID+"/reset-password", admin, nil, 200, &reset)
	if len(reset.Password) < 16 || reset.User.ID != u.ID {
		t.Fatalf("reset response = %+v", reset)
	}
	if e := s.Error(t, "GET", "/api/auth/me", tok, nil, 401); *e.Code != "session_revoked" {
		t.Fatalf("old session after reset: %+v", e)
	}
	s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": apitest.Password}, 401)
	fresh := s.Login(t, u.Email, reset.Password)
	s.JSON(t, "GET", "/api/auth/me", fresh, nil, 200, nil)

	// An admin-chosen password is validated and not echoed.
	s.Error(t, "POST", "/api/auth/users/"+u.ID+"/reset-password", admin, map[string]string{"password": "short"}, 422)
	var chosen map[string]any
	s.JSON(t, "POST", "/api/auth/users/"+u.ID+"/reset-password", admin, map[string]string{"password": "a new long password"}, 200, &chosen)
	if _, ok := chosen["password"]; ok {
		t.Fatalf("chosen password echoed: %v", chosen)
	}
	s.Login(t, u.Email, "a new long password")
	s.Error(t, "POST", "/api/auth/users/nobody/reset-password", admin, nil, 404)
}

// Disabling or deleting a user ends their sessions and their API keys at once.
func TestRevocationIsImmediate(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	u, tok := s.ApprovedUser(t, admin, "user@example.com")
	var key struct{ Key string }
	s.JSON(t, "POST", "/api/auth/api-keys", tok, map[string]string{"name": "script"}, 201, &key)
	s.JSON(t, "GET", "/api/auth/me", key.Key, nil, 200, nil)

	s.JSON(t, "PUT", "/api/auth/users/"+u.ID, admin, map[string]string{"status": "disabled"}, 200, nil)
	if e := s.Error(t, "GET", "/api/auth/me", tok, nil, 401); *e.Code != "session_revoked" {
		t.Fatalf("session of disabled user: %+v", e)
	}
	if e := s.Error(t, "GET", "/api/auth/me", key.Key, nil, 403); !strings.Contains(e.Message, "disabled") {
		t.Fatalf("key of disabled user: %+v", e)
	}
	// Re-enabling does not bring the old session back, but the key works again.
	s.JSON(t, "PUT", "/api/auth/users/"+u.ID, admin, map[string]string{"status": "approved"}, 200, nil)
	s.Error(t, "GET", "/api/auth/me", tok, nil, 401)
	s.JSON(t, "GET", "/api/auth/me", key.Key, nil, 200, nil)

	s.JSON(t, "DELETE", "/api/auth/users/"+u.ID, admin, nil, 204, nil)
	s.Error(t, "GET", "/api/auth/me", key.Key, nil, 401)
}
