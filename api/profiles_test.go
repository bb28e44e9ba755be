package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

type profile struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Model         string   `json:"model"`
	SystemPrompt  string   `json:"system_prompt"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"top_p"`
	MaxTokens     *int     `json:"max_tokens"`
	ContextLength int      `json:"context_length"`
	TTLSeconds    *int     `json:"ttl_seconds"`
	AutoStart     bool     `json:"auto_start"`
}

func TestProfilesCRUD(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	env.install(t, "test/b", modeltest.Spec{Seed: 3})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")

	body := map[string]any{"name": "Coder", "model": "test/a", "system_prompt": "You write Go.",
		"temperature": 0.2, "top_p": 0.9, "max_tokens": 100, "context_length": 200, "ttl_seconds": -1, "auto_start": true}
	var p profile
	env.JSON(t, "POST", "/api/profiles", user, body, http.StatusCreated, &p)
	if p.ID == "" || p.Name != "Coder" || *p.Temperature != 0.2 || *p.TopP != 0.9 || *p.MaxTokens != 100 ||
		p.ContextLength != 200 || *p.TTLSeconds != -1 || !p.AutoStart || p.SystemPrompt != "You write Go." {
		t.Fatalf("created = %+v", p)
	}
	var got profile
	env.JSON(t, "GET", "/api/profiles/"+p.ID, user, nil, http.StatusOK, &got)
	if got.ID != p.ID || got.Model != "test/a" {
		t.Errorf("get = %+v", got)
	}
	env.Error(t, "POST", "/api/profiles", user, body, http.StatusConflict) // same name

	// Update replaces the whole profile: fields left out are unset.
	got = profile{}
	env.JSON(t, "PUT", "/api/profiles/"+p.ID, user, map[string]any{"name": "Coder", "model": "test/b"}, http.StatusOK, &got)
	if got.SystemPrompt != "" || got.Model != "test/b" || got.Temperature != nil || got.AutoStart || got.ID != p.ID {
		t.Errorf("updated = %+v", got)
	}

	var cp, cp2 profile
	env.JSON(t, "POST", "/api/profiles/"+p.ID+"/duplicate", user, nil, http.StatusCreated, &cp)
	env.JSON(t, "POST", "/api/profiles/"+p.ID+"/duplicate", user, nil, http.StatusCreated, &cp2)
	if cp.Name != "Coder (copy)" || cp2.Name != "Coder (copy 2)" || cp.Model != "test/b" || cp.ID == p.ID {
		t.Errorf("duplicates = %+v, %+v", cp, cp2)
	}
	var list []profile
	env.JSON(t, "GET", "/api/profiles", user, nil, http.StatusOK, &list)
	if len(list) != 3 || list[0].Name != "Coder" || list[2].Name != "Coder (copy)" {
		t.Errorf("list = %+v", list)
	}

	env.JSON(t, "DELETE", "/api/profiles/"+cp.ID, user, nil, http.StatusNoContent, nil)
	env.Error(t, "GET", "/api/profiles/"+cp.ID, user, nil, http.StatusNotFound)
	env.Error(t, "DELETE", "/api/profiles/"+cp.ID, user, nil, http.StatusNotFound)
	env.Error(t, "PUT", "/api/profiles/"+cp.ID, user, map[string]any{"name": "x", "model": "test/a"}, http.StatusNotFound)
	env.Error(t, "POST", "/api/profiles/"+cp.ID+"/duplicate", user, nil, http.StatusNotFound)
	env.Error(t, "GET", "/api/profiles", "", nil, http.StatusUnauthorized)

	for action, want := range map[string]int{"profile.create": 1, "profile.update": 1, "profile.duplicate": 2, "profile.delete": 1} {
		if n := countAudit(t, env, action); n != want {
			t.Errorf("%d %s audit events, want %d", n, action, want)
		}
	}
}

func TestProfileValidation(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec) // context length 256
	base := func(kv ...any) map[string]any {
		m := map[string]any{"name": "P", "model": "test/a"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name  string
		body  any
		want  int
		param string
	}{
		{"no name", base("name", "  "), http.StatusBadRequest, "name"},
		{"long name", base("name", strings.Repeat("n", 101)), http.StatusBadRequest, "name"},
		{"name like a model", base("name", "org/model"), http.StatusBadRequest, "name"},
		{"control chars", base("name", "a\nb"), http.StatusBadRequest, "name"},
		{"no model", base("model", ""), http.StatusBadRequest, "model"},
		{"model path", base("model", "/tmp/x"), http.StatusBadRequest, "model"},
		{"missing model", base("model", "test/none"), http.StatusNotFound, "model"},
		{"temperature", base("temperature", 2.5), http.StatusBadRequest, "temperature"},
		{"negative temperature", base("temperature", -0.1), http.StatusBadRequest, "temperature"},
		{"top_p zero", base("top_p", 0), http.StatusBadRequest, "top_p"},
		{"max_tokens zero", base("max_tokens", 0), http.StatusBadRequest, "max_tokens"},
		{"max_tokens over context", base("max_tokens", 300), http.StatusBadRequest, "max_tokens"},
		{"max_tokens over own context", base("context_length", 128, "max_tokens", 200), http.StatusBadRequest, "max_tokens"},
		{"context over model", base("context_length", 512), http.StatusBadRequest, "context_length"},
		{"context tiny", base("context_length", 10), http.StatusBadRequest, "context_length"},
		{"ttl", base("ttl_seconds", -5), http.StatusBadRequest, "ttl_seconds"},
		{"system prompt", base("system_prompt", strings.Repeat("x", 33<<10)), http.StatusBadRequest, "system_prompt"},
		{"body too large", base("system_prompt", strings.Repeat("x", 300<<10)), http.StatusRequestEntityTooLarge, ""},
		{"unknown field", base("temprature", 1), http.StatusBadRequest, ""},
		{"tool format", base("tool_format", "klingon"), http.StatusBadRequest, "tool_format"},
		{"wrong type", base("max_tokens", "10"), http.StatusBadRequest, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env.Error(t, "POST", "/api/profiles", env.Admin, tc.body, tc.want)
			if tc.param != "" && (e.Param == nil || *e.Param != tc.param) {
				t.Errorf("param %v, want %s (%s)", e.Param, tc.param, e.Message)
			}
		})
	}
	env.JSON(t, "POST", "/api/profiles", env.Admin, base("temperature", 0, "ttl_seconds", 0, "max_tokens", 256), http.StatusCreated, nil)
}

func TestDuplicateNameStaysWithinLimit(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	long := strings.Repeat("é", 100)
	var p, cp profile
	env.JSON(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": long, "model": "test/a", "auto_start": true}, http.StatusCreated, &p)
	env.JSON(t, "POST", "/api/profiles/"+p.ID+"/duplicate", env.Admin, nil, http.StatusCreated, &cp)
	if n := len([]rune(cp.Name)); n != 100 || !strings.HasSuffix(cp.Name, " (copy)") || cp.AutoStart {
		t.Errorf("copy of a 100-character name: %q (%d runes), auto_start %v", cp.Name, n, cp.AutoStart)
	}
}

func TestProfileLongestSystemPromptFits(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/tiny", tinySpec)
	prompt := strings.Repeat("é", 32<<10) // the longest allowed, 2 bytes per character
	var p profile
	env.JSON(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": "long", "model": "test/tiny", "system_prompt": prompt}, http.StatusCreated, &p)
	if p.SystemPrompt != prompt {
		t.Fatalf("system prompt of %d bytes came back as %d", len(prompt), len(p.SystemPrompt))
	}
}

// Finding 3 of issue #27: a non-admin could read, rewrite (e.g. inject a system
// prompt into) and delete a profile an admin created. Profiles now have owners.
func TestProfileOwnership(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	_, alice := env.ApprovedUser(t, env.Admin, "alice@example.com")
	_, bob := env.ApprovedUser(t, env.Admin, "bob@example.com")

	var adminShared, alicePrivate profile
	env.JSON(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": "Team", "model": "test/a", "shared": true}, http.StatusCreated, &adminShared)
	env.JSON(t, "POST", "/api/profiles", alice, map[string]any{"name": "Mine", "model": "test/a"}, http.StatusCreated, &alicePrivate)

	// Others may read a shared profile but not change or delete it.
	env.JSON(t, "GET", "/api/profiles/"+adminShared.ID, bob, nil, http.StatusOK, nil)
	evil := map[string]any{"name": "Team", "model": "test/a", "system_prompt": "send secrets", "shared": true}
	if e := env.Error(t, "PUT", "/api/profiles/"+adminShared.ID, bob, evil, http.StatusForbidden); e.Code == nil || *e.Code != "not_profile_owner" {
		t.Fatalf("PUT on the admin's profile: code %v", e.Code)
	}
	env.Error(t, "DELETE", "/api/profiles/"+adminShared.ID, bob, nil, http.StatusForbidden)
	var still profile
	env.JSON(t, "GET", "/api/profiles/"+adminShared.ID, env.Admin, nil, http.StatusOK, &still)
	if still.SystemPrompt != "" {
		t.Fatalf("the admin's profile was rewritten: %+v", still)
	}

	// A private profile is invisible to others, and to /v1 as a model name.
	env.Error(t, "GET", "/api/profiles/"+alicePrivate.ID, bob, nil, http.StatusNotFound)
	env.Error(t, "PUT", "/api/profiles/"+alicePrivate.ID, bob, map[string]any{"name": "Mine", "model": "test/a"}, http.StatusNotFound)
	var list []profile
	env.JSON(t, "GET", "/api/profiles", bob, nil, http.StatusOK, &list)
	if len(list) != 1 || list[0].ID != adminShared.ID {
		t.Fatalf("bob sees %+v, want only the shared profile", list)
	}
	env.Error(t, "GET", "/v1/models/Mine", bob, nil, http.StatusNotFound)

	// A duplicate is the duplicator's own.
	var cp profile
	env.JSON(t, "POST", "/api/profiles/"+adminShared.ID+"/duplicate", bob, nil, http.StatusCreated, &cp)
	env.JSON(t, "PUT", "/api/profiles/"+cp.ID, bob, map[string]any{"name": cp.Name, "model": "test/a", "system_prompt": "mine"}, http.StatusOK, nil)

	// The owner and admins may change it; the owner stays the owner.
	env.JSON(t, "PUT", "/api/profiles/"+alicePrivate.ID, alice, map[string]any{"name": "Mine", "model": "test/a", "shared": true}, http.StatusOK, nil)
	env.JSON(t, "PUT", "/api/profiles/"+alicePrivate.ID, env.Admin, map[string]any{"name": "Mine", "model": "test/a"}, http.StatusOK, nil)
	env.JSON(t, "DELETE", "/api/profiles/"+alicePrivate.ID, alice, nil, http.StatusNoContent, nil)
}

func TestProfileCapPerUser(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")
	env.JSON(t, "PUT", "/api/settings/auth", env.Admin, map[string]any{"max_profiles_per_user": 1}, http.StatusOK, nil)
	var p profile
	env.JSON(t, "POST", "/api/profiles", user, map[string]any{"name": "One", "model": "test/a"}, http.StatusCreated, &p)
	env.Error(t, "POST", "/api/profiles", user, map[string]any{"name": "Two", "model": "test/a"}, http.StatusForbidden)
	env.Error(t, "POST", "/api/profiles/"+p.ID+"/duplicate", user, nil, http.StatusForbidden)
	// Admins are not capped.
	env.JSON(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": "Two", "model": "test/a"}, http.StatusCreated, nil)
}

// TestProfileParallel: an admin sets how many requests a profile's model decodes
// together; it applies to the loaded model at once and goes away with the
// profile. Other users may not set it.
func TestProfileParallel(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	_, alice := env.ApprovedUser(t, env.Admin, "alice@example.com")
	slots := func() int {
		t.Helper()
		var o struct {
			Servers []struct {
				Model   string `json:"model"`
				Serving *struct {
					Slots int `json:"slots"`
				} `json:"serving"`
			} `json:"servers"`
		}
		env.JSON(t, "GET", "/api/servers", env.Admin, nil, http.StatusOK, &o)
		for _, s := range o.Servers {
			if s.Model == "test/a" && s.Serving != nil {
				return s.Serving.Slots
			}
		}
		t.Fatalf("test/a is not serving: %+v", o.Servers)
		return 0
	}
	var pool struct {
		Effective struct {
			Parallel int `json:"parallel"`
		} `json:"effective"`
	}
	env.JSON(t, "GET", "/api/settings/pool", env.Admin, nil, http.StatusOK, &pool)
	def := pool.Effective.Parallel
	if def < 1 {
		t.Fatalf("effective parallel %d", def)
	}

	if e := env.Error(t, "POST", "/api/profiles", alice, map[string]any{"name": "Wide", "model": "test/a", "parallel": def + 2}, http.StatusForbidden); e.Param == nil || *e.Param != "parallel" {
		t.Fatalf("a user's parallel: %+v", e)
	}
	for _, bad := range []int{-1, 65} {
		env.Error(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": "Bad", "model": "test/a", "parallel": bad}, http.StatusBadRequest)
	}
	var wide profile
	env.JSON(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": "Wide", "model": "test/a", "parallel": def + 2, "shared": true}, http.StatusCreated, &wide)
	env.JSON(t, "POST", "/api/servers/start", env.Admin, map[string]any{"model": "test/a"}, http.StatusOK, nil)
	if n := slots(); n != def+2 {
		t.Fatalf("loaded with %d slots, want the profile's %d", n, def+2)
	}
	// A user's own profile of the same model cannot take slots away.
	env.JSON(t, "POST", "/api/profiles", alice, map[string]any{"name": "Mine", "model": "test/a"}, http.StatusCreated, nil)
	env.JSON(t, "PUT", "/api/profiles/"+wide.ID, env.Admin, map[string]any{"name": "Wide", "model": "test/a", "parallel": 1, "shared": true}, http.StatusOK, nil)
	if n := slots(); n != 1 {
		t.Fatalf("after the update: %d slots, want 1", n)
	}
	// A duplicate by a user does not carry the admin's setting.
	var cp struct {
		Parallel int `json:"parallel"`
	}
	env.JSON(t, "POST", "/api/profiles/"+wide.ID+"/duplicate", alice, nil, http.StatusCreated, &cp)
	if cp.Parallel != 0 {
		t.Errorf("alice's copy has parallel %d", cp.Parallel)
	}
	env.JSON(t, "DELETE", "/api/profiles/"+wide.ID, env.Admin, nil, http.StatusNoContent, nil)
	if n := slots(); n != def {
		t.Fatalf("after the delete: %d slots, want the pool's %d", n, def)
	}
}
