package api_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/store"
)

type auditPage struct {
	Events     []store.AuditEvent `json:"events"`
	NextCursor string             `json:"next_cursor"`
}

func auditLogs(t *testing.T, s *apitest.Server, token string, q url.Values) auditPage {
	t.Helper()
	var page auditPage
	s.JSON(t, "GET", "/api/system/audit-logs?"+q.Encode(), token, nil, 200, &page)
	return page
}

func find(evs []store.AuditEvent, keep func(store.AuditEvent) bool) []store.AuditEvent {
	var out []store.AuditEvent
	for _, e := range evs {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

func TestSecurityActionsAudited(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	var me apitest.User
	s.JSON(t, "GET", "/api/auth/me", admin, nil, 200, &me)
	s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": apitest.AdminEmail, "password": "wrong password"}, 401)
	s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": "typo-" + apitest.Password, "password": "x"}, 401)
	bob := s.Register(t, "bob@example.com", apitest.Password)
	s.JSON(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]any{"status": "approved"}, 200, nil)
	s.JSON(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]any{"is_admin": true}, 200, nil)
	var reset struct{ Password string }
	s.JSON(t, "POST", "/api/auth/users/"+bob.ID+"/reset-password", admin, nil, 200, &reset)
	var key keyView
	s.JSON(t, "POST", "/api/auth/api-keys", admin, map[string]string{"name": "ci"}, 201, &key)
	s.JSON(t, "DELETE", "/api/auth/api-keys/"+key.ID, admin, nil, 204, nil)
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]any{"allow_unauthenticated_loopback": true}, 200, nil)
	s.JSON(t, "PUT", "/api/settings/audit", admin, map[string]any{"max_events": 5000}, 200, nil)
	s.JSON(t, "PUT", "/api/auth/users/"+bob.ID, admin, map[string]any{"status": "disabled"}, 200, nil)
	s.JSON(t, "DELETE", "/api/auth/users/"+bob.ID, admin, nil, 204, nil)

	resp := s.Do(t, "GET", "/api/system/audit-logs?limit=100", admin, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, secret := range []string{apitest.Password, reset.Password, key.Key, admin} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the audit log contains a secret: %q", secret)
		}
	}
	var page auditPage
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action, status, user, target string
	}{
		{"auth.register", "success", me.ID, me.ID},
		{"auth.login", "success", me.ID, ""},
		{"auth.login", "error", me.ID, ""},
		{"auth.login", "error", "", ""}, // unknown email: no user, no email recorded
		{"auth.register", "success", bob.ID, bob.ID},
		{"user.approve", "success", me.ID, bob.ID},
		{"user.role", "success", me.ID, bob.ID},
		{"user.password_reset", "success", me.ID, bob.ID},
		{"apikey.create", "success", me.ID, key.ID},
		{"apikey.revoke", "success", me.ID, key.ID},
		{"settings.update", "success", me.ID, "auth"},
		{"settings.update", "success", me.ID, "audit"},
		{"user.status", "success", me.ID, bob.ID},
		{"user.delete", "success", me.ID, bob.ID},
	}
	for _, w := range want {
		got := find(page.Events, func(e store.AuditEvent) bool {
			return e.Action == w.action && e.Status == w.status && e.UserID == w.user && e.Target == w.target
		})
		if len(got) == 0 {
			t.Errorf("no %s/%s event by %q on %q", w.action, w.status, w.user, w.target)
			continue
		}
		if e := got[0]; e.RequestID == "" || e.ClientIP != "127.0.0.1" || e.ID == "" || e.Time.IsZero() {
			t.Errorf("%s event lacks request context: %+v", w.action, e)
		}
	}
	unknown := find(page.Events, func(e store.AuditEvent) bool { return e.Action == "auth.login" && e.UserID == "" })
	if len(unknown) != 1 || unknown[0].UserEmail != "" || unknown[0].HTTPStatus != 401 {
		t.Fatalf("failed login for an unknown email recorded as %+v", unknown)
	}
}

func TestAuditVisibility(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	alice, aliceTok := s.ApprovedUser(t, admin, "alice@example.com")
	s.JSON(t, "POST", "/api/auth/api-keys", aliceTok, map[string]string{"name": "a"}, 201, nil)

	all := auditLogs(t, s, admin, nil)
	own := auditLogs(t, s, aliceTok, nil)
	if len(own.Events) == 0 || len(own.Events) >= len(all.Events) {
		t.Fatalf("alice sees %d of %d events", len(own.Events), len(all.Events))
	}
	for _, e := range own.Events {
		if e.UserID != alice.ID {
			t.Fatalf("alice sees someone else's event: %+v", e)
		}
	}
	var adminID string
	for _, e := range all.Events {
		if e.UserID != alice.ID && e.UserID != "" {
			adminID = e.UserID
		}
	}
	// Asking for another user's events gets her own, not theirs.
	if asked := auditLogs(t, s, aliceTok, url.Values{"user": {adminID}}); len(asked.Events) != len(own.Events) {
		t.Fatalf("alice asking for the admin's events got %d", len(asked.Events))
	}
	if forAlice := auditLogs(t, s, admin, url.Values{"user": {alice.ID}}); len(forAlice.Events) != len(own.Events) {
		t.Fatalf("admin filtering alice's events got %d, want %d", len(forAlice.Events), len(own.Events))
	}
}

func TestAuditQueryParams(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	start := s.Clock.Now()
	admin := s.Admin(t) // register + login at start
	for i := range 6 {
		s.Clock.Advance(time.Minute)
		email := "x" + strconv.Itoa(i) + "@example.com" // distinct: stay under the per-account limit
		s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": "wrong password"}, 401)
	}
	s.Clock.Advance(time.Minute)

	failures := auditLogs(t, s, admin, url.Values{"action": {"auth.login"}, "status": {"error"}})
	if len(failures.Events) != 6 {
		t.Fatalf("%d failed logins, want 6", len(failures.Events))
	}
	if n := len(auditLogs(t, s, admin, url.Values{"action": {"auth"}}).Events); n != 8 {
		t.Fatalf("action prefix auth matched %d, want 8", n)
	}
	window := url.Values{
		"from": {start.Add(2 * time.Minute).Format(time.RFC3339)},
		"to":   {strconv.FormatInt(start.Add(4*time.Minute).Unix(), 10)},
	}
	if n := len(auditLogs(t, s, admin, window).Events); n != 2 {
		t.Fatalf("time window matched %d, want 2", n)
	}

	// Pages by cursor and by offset agree and are newest first.
	var byCursor []string
	q := url.Values{"limit": {"3"}}
	for {
		page := auditLogs(t, s, admin, q)
		for _, e := range page.Events {
			byCursor = append(byCursor, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	offset := auditLogs(t, s, admin, url.Values{"limit": {"3"}, "offset": {"3"}})
	if len(byCursor) != 8 || offset.Events[0].ID != byCursor[3] || byCursor[0] < byCursor[7] {
		t.Fatalf("cursor walk %v, offset page starts %s", byCursor, offset.Events[0].ID)
	}

	for _, bad := range []url.Values{
		{"limit": {"0"}}, {"limit": {"5000"}}, {"offset": {"-1"}}, {"from": {"yesterday"}}, {"cursor": {"zz"}},
	} {
		s.Error(t, "GET", "/api/system/audit-logs?"+bad.Encode(), admin, nil, 400)
	}
}

func TestAuditStatsEndpoint(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	s.Error(t, "POST", "/api/auth/login", "", map[string]string{"email": apitest.AdminEmail, "password": "wrong password"}, 401)
	var st store.AuditStats
	s.JSON(t, "GET", "/api/system/audit-logs/stats?action=auth.login", admin, nil, 200, &st)
	if st.Total != 2 || st.ByStatus["success"] != 1 || st.ByStatus["error"] != 1 || st.ByAction["auth.login"] != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestAuditExport(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	// A client-chosen name that a spreadsheet would run as a formula.
	s.JSON(t, "POST", "/api/auth/api-keys", admin, map[string]string{"name": "=HYPERLINK(\"http://evil\")"}, 201, nil)
	total := len(auditLogs(t, s, admin, url.Values{"limit": {"1000"}}).Events)

	t.Run("jsonl", func(t *testing.T) {
		resp := s.Do(t, "GET", "/api/system/audit-logs/export?format=jsonl", admin, nil)
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "audit-logs.jsonl") {
			t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
		}
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			var ev store.AuditEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
				t.Fatalf("line %d: %q: %v", n, sc.Text(), err)
			}
			n++
		}
		if n != total {
			t.Fatalf("%d lines, want %d", n, total)
		}
	})
	t.Run("csv", func(t *testing.T) {
		resp := s.Do(t, "GET", "/api/system/audit-logs/export?format=csv", admin, nil)
		defer resp.Body.Close()
		rows, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != total+1 || rows[0][0] != "id" || rows[0][3] != "action" {
			t.Fatalf("%d rows (want %d + header), header %v", len(rows), total, rows[0])
		}
		for _, r := range rows[1:] {
			for _, cell := range r {
				if strings.HasPrefix(cell, "=") {
					t.Fatalf("formula cell exported as is: %q", cell)
				}
			}
		}
	})
	t.Run("limit", func(t *testing.T) {
		resp := s.Do(t, "GET", "/api/system/audit-logs/export?format=jsonl&limit=2", admin, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := strings.Count(string(body), "\n"); n != 2 {
			t.Fatalf("%d lines with limit=2", n)
		}
	})
	s.Error(t, "GET", "/api/system/audit-logs/export?format=xml", admin, nil, 400)
	s.Error(t, "GET", "/api/system/audit-logs/export?format=csv", "", nil, 401)
}

func TestSettingsEndpoints(t *testing.T) {
	s := apitest.Start(t, apitest.Options{})
	admin := s.Admin(t)
	var ret store.AuditRetention
	s.JSON(t, "GET", "/api/settings/audit", admin, nil, 200, &ret)
	if ret != store.DefaultAuditRetention {
		t.Fatalf("default audit settings = %+v", ret)
	}
	s.JSON(t, "PUT", "/api/settings/audit", admin, map[string]int{"retention_days": 7}, 200, &ret)
	if ret.Days != 7 || ret.MaxEvents != store.DefaultAuditRetention.MaxEvents {
		t.Fatalf("after partial update: %+v", ret)
	}
	s.Error(t, "PUT", "/api/settings/audit", admin, map[string]int{"retention_days": 0}, 422)
	s.Error(t, "PUT", "/api/settings/audit", admin, map[string]int{"retention": 7}, 400)

	var auth map[string]bool
	s.JSON(t, "GET", "/api/settings/auth", admin, nil, 200, &auth)
	if v, ok := auth["allow_unauthenticated_loopback"]; !ok || v {
		t.Fatalf("default auth settings = %v", auth)
	}
	s.JSON(t, "PUT", "/api/settings/auth", admin, map[string]bool{"allow_unauthenticated_loopback": true}, 200, &auth)
	s.JSON(t, "GET", "/api/settings/auth", admin, nil, 200, &auth)
	if !auth["allow_unauthenticated_loopback"] {
		t.Fatal("auth setting not kept")
	}
}
