package api_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/apitest"
)

type keyView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Key        string    `json:"key"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

func TestAPIKeys(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	_, alice := s.ApprovedUser(t, admin, "alice@example.com")

	var created keyView
	s.JSON(t, "POST", "/api/auth/api-keys", alice, map[string]string{"name": " laptop "}, 201, &created)
	if !regexp.MustCompile(`^mlxm-[0-9A-Za-z]{43}$`).MatchString(created.Key) || created.Name != "laptop" ||
		!strings.HasPrefix(created.Key, created.Prefix) {
		t.Fatalf("created key = %+v", created)
	}

	var raw []map[string]any
	s.JSON(t, "GET", "/api/auth/api-keys", alice, nil, 200, &raw)
	if len(raw) != 1 {
		t.Fatalf("%d keys listed, want 1", len(raw))
	}
	for _, f := range []string{"key", "hash"} {
		if _, ok := raw[0][f]; ok {
			t.Fatalf("listing exposes %q: %v", f, raw[0])
		}
	}

	// The key authenticates as its owner, on /api too.
	var me apitest.User
	s.JSON(t, "GET", "/api/auth/me", created.Key, nil, 200, &me)
	if me.Email != "alice@example.com" {
		t.Fatalf("key authenticates as %q", me.Email)
	}

	lastUsed := func() time.Time {
		var keys []keyView
		s.JSON(t, "GET", "/api/auth/api-keys", alice, nil, 200, &keys)
		return keys[0].LastUsedAt
	}
	first := lastUsed()
	if first.IsZero() {
		t.Fatal("last_used_at not set after use")
	}
	s.Clock.Advance(30 * time.Second)
	s.JSON(t, "GET", "/api/auth/me", created.Key, nil, 200, nil)
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last_used_at moved within a minute: %v -> %v", first, got)
	}
	s.Clock.Advance(31 * time.Second)
	s.JSON(t, "GET", "/api/auth/me", created.Key, nil, 200, nil)
	if got := lastUsed(); !got.After(first) {
		t.Fatalf("last_used_at not updated after a minute: %v", got)
	}

	// Another user can neither see nor revoke it.
	_, bob := s.ApprovedUser(t, admin, "bob@example.com")
	s.JSON(t, "GET", "/api/auth/api-keys", bob, nil, 200, &raw)
	if len(raw) != 0 {
		t.Fatalf("bob sees %d keys", len(raw))
	}
	s.Error(t, "DELETE", "/api/auth/api-keys/"+created.ID, bob, nil, 404)
	s.JSON(t, "GET", "/api/auth/me", created.Key, nil, 200, nil)

	s.JSON(t, "DELETE", "/api/auth/api-keys/"+created.ID, alice, nil, 204, nil)
	if e := s.Error(t, "GET", "/api/auth/me", created.Key, nil, 401); *e.Code != "invalid_api_key" {
		t.Fatalf("revoked key: %+v", e)
	}
	s.Error(t, "DELETE", "/api/auth/api-keys/"+created.ID, alice, nil, 404)

	for name, body := range map[string]any{
		"empty name":    map[string]string{"name": "  "},
		"long name":     map[string]string{"name": strings.Repeat("k", 101)},
		"unknown field": `{"name": "x", "scopes": ["all"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			want := 422
			if name == "unknown field" {
				want = 400
			}
			s.Error(t, "POST", "/api/auth/api-keys", alice, body, want)
		})
	}
}
