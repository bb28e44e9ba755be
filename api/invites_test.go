package api_test

import (
	"encoding/json"
	"io"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/store"
)

// Finding 7 of issue #27: register answered 409 for an e-mail that has an account
// and 201 for a new one, so anyone could test which addresses are registered.
// Now both get the same answer, and the owner's sign-in is untouched.
func TestRegisterDoesNotRevealAccounts(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	bob, bobTok := s.ApprovedUser(t, admin, "bob@example.com")

	answer := func(email string) (int, map[string]any) {
		resp := s.Do(t, "POST", "/api/auth/register", "", map[string]string{"email": email, "password": "another password"})
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	taken, takenBody := answer("  BOB@example.com")
	fresh, freshBody := answer("carol@example.com")
	if taken != fresh || taken != 201 {
		t.Fatalf("status for an existing e-mail %d, for a new one %d: must be the same 201", taken, fresh)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return out
	}
	if takenBody["status"] != "pending" || takenBody["email"] != "bob@example.com" || takenBody["id"] == bob.ID ||
		len(takenBody["id"].(string)) != len(freshBody["id"].(string)) || len(takenBody) != len(freshBody) {
		t.Fatalf("answers differ: existing %v, new %v (fields %v / %v)", takenBody, freshBody, keys(takenBody), keys(freshBody))
	}
	// Bob's account and password are unchanged.
	var me apitest.User
	s.JSON(t, "GET", "/api/auth/me", bobTok, nil, 200, &me)
	if me.ID != bob.ID || me.Status != "approved" {
		t.Fatalf("bob after the attempt: %+v", me)
	}
	s.Login(t, "bob@example.com", apitest.Password)
	// The admin sees the attempt for what it was.
	var page auditPage
	s.JSON(t, "GET", "/api/system/audit-logs?limit=100&action=auth.register", admin, nil, 200, &page)
	dup := find(page.Events, func(e store.AuditEvent) bool {
		return e.Action == "auth.register" && e.Status == store.AuditError && e.UserEmail == "bob@example.com"
	})
	if len(dup) != 1 || dup[0].ErrorType != "email_taken" {
		t.Fatalf("audit of the duplicate registration: %+v", dup)
	}
}

type inviteResp struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedBy    string    `json:"used_by"`
}

// Registration can be switched to invite-only: an admin creates a one-time link,
// the account it creates is approved at once, and nobody registers without one.
func TestInviteOnlyRegistration(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	_, user := s.ApprovedUser(t, admin, "bob@example.com")
	s.Error(t, "PUT", "/api/settings/auth", admin, map[string]any{"registration": "sometimes"}, 400)
	if e := s.Error(t, "PUT", "/api/settings/auth", admin, map[string]any{"quota_key_concurrent": -1}, 400); e.Param == nil || *e.Param != "quota_key_concurrent" {
		t.Errorf("a negative quota: %+v", e)
	}
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"registration": "invite"}, 200, nil)

	reg := func(email, invite string) map[string]string {
		return map[string]string{"email": email, "password": apitest.Password, "invite": invite}
	}
	if e := s.Error(t, "POST", "/api/auth/register", "", map[string]string{"email": "carol@example.com", "password": apitest.Password}, 403); e.Code == nil || *e.Code != "invite_required" {
		t.Fatalf("no invite: %+v", e)
	}
	s.Error(t, "POST", "/api/auth/invites", user, map[string]any{}, 403) // admins only

	var inv inviteResp
	s.JSON(t, "POST", "/api/auth/invites", admin, map[string]any{"note": "for carol", "expires_in_hours": 24}, 201, &inv)
	u, err := url.Parse(inv.URL)
	if err != nil || u.Path != "/login" || u.Query().Get("invite") != inv.Token || len(inv.Token) < 40 || inv.State != "active" {
		t.Fatalf("invite %+v", inv)
	}
	if got := inv.ExpiresAt.Sub(s.Clock.Now()); got != 24*time.Hour {
		t.Fatalf("expires in %v, want 24h", got)
	}
	if e := s.Error(t, "POST", "/api/auth/register", "", reg("carol@example.com", inv.Token+"x"), 403); e.Code == nil || *e.Code != "invite_invalid" {
		t.Fatalf("wrong token: %+v", e)
	}
	// An existing e-mail does not spend the invite.
	s.Error(t, "POST", "/api/auth/register", "", reg("bob@example.com", inv.Token), 409)

	var carol apitest.User
	s.JSON(t, "POST", "/api/auth/register", "", reg("carol@example.com", inv.Token), 201, &carol)
	if carol.Status != "approved" || carol.IsAdmin {
		t.Fatalf("invited account %+v, want approved, not admin", carol)
	}
	s.Login(t, "carol@example.com", apitest.Password)
	if e := s.Error(t, "POST", "/api/auth/register", "", reg("dave@example.com", inv.Token), 403); *e.Code != "invite_invalid" {
		t.Fatalf("second use: %+v", e)
	}

	// Listing never shows a token; a used invite stays as a record.
	resp := s.Do(t, "GET", "/api/auth/invites", admin, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list []inviteResp
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].State != "used" || list[0].UsedBy != carol.ID || list[0].Token != "" {
		t.Fatalf("list %s", raw)
	}
	if e := s.Error(t, "DELETE", "/api/auth/invites/"+inv.ID, admin, nil, 409); *e.Code != "invite_used" {
		t.Fatalf("deleting a used invite: %+v", e)
	}

	// Expiry and revocation.
	var short, revoked inviteResp
	s.JSON(t, "POST", "/api/auth/invites", admin, map[string]any{"expires_in_hours": 1}, 201, &short)
	s.JSON(t, "POST", "/api/auth/invites", admin, map[string]any{}, 201, &revoked)
	if got := revoked.ExpiresAt.Sub(s.Clock.Now()); got != 72*time.Hour {
		t.Fatalf("default expiry %v, want 72h", got)
	}
	s.JSON(t, "DELETE", "/api/auth/invites/"+revoked.ID, admin, nil, 204, nil)
	s.Error(t, "POST", "/api/auth/register", "", reg("erin@example.com", revoked.Token), 403)
	s.Clock.Advance(time.Hour)
	s.Error(t, "POST", "/api/auth/register", "", reg("erin@example.com", short.Token), 403)
	s.Error(t, "POST", "/api/auth/invites", admin, map[string]any{"expires_in_hours": 0}, 422)
	s.Error(t, "POST", "/api/auth/invites", admin, map[string]any{"expires_in_hours": 24 * 31}, 422)

	// Closed: not even an invite opens it.
	var last inviteResp
	s.JSON(t, "POST", "/api/auth/invites", admin, map[string]any{}, 201, &last)
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"registration": "closed"}, 200, nil)
	if e := s.Error(t, "POST", "/api/auth/register", "", reg("frank@example.com", last.Token), 403); *e.Code != "registration_disabled" {
		t.Fatalf("closed, with an invite: %+v", e)
	}
	if e := s.Error(t, "POST", "/api/auth/register", "", map[string]string{"email": "frank@example.com", "password": apitest.Password}, 403); *e.Code != "registration_disabled" {
		t.Fatalf("closed: %+v", e)
	}
	// Back to open: registration works as before, awaiting approval.
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"registration": "open"}, 200, nil)
	if g := s.Register(t, "grace@example.com", apitest.Password); g.Status != "pending" {
		t.Fatalf("open again: %+v", g)
	}
}

// The very first account can always be created, whatever the mode, since
// otherwise a fresh install set to invite-only would have no admin to invite.
func TestFirstAccountWhateverTheMode(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	if err := s.Store.Settings().Put("auth", map[string]any{"registration": "closed"}); err != nil {
		t.Fatal(err)
	}
	first := s.Register(t, apitest.AdminEmail, apitest.Password)
	if !first.IsAdmin || first.Status != "approved" {
		t.Fatalf("first account %+v", first)
	}
	if !reflect.DeepEqual(s.Error(t, "POST", "/api/auth/register", "", map[string]string{"email": "x@example.com", "password": apitest.Password}, 403).Code, ptr("registration_disabled")) {
		t.Fatal("second account in closed mode was not refused")
	}
}

func ptr[T any](v T) *T { return &v }
