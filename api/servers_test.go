package api_test

import (
	"net/http"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

type server struct {
	Model         string   `json:"model"`
	State         string   `json:"state"`
	MemoryBytes   int64    `json:"memory_bytes"`
	ResidentBytes int64    `json:"resident_bytes"`
	UptimeSeconds float64  `json:"uptime_seconds"`
	InFlight      int      `json:"in_flight"`
	Queued        int      `json:"queued"`
	Pinned        bool     `json:"pinned"`
	TTLSeconds    float64  `json:"ttl_seconds"`
	Profiles      []string `json:"profiles"`
	Serving       *struct {
		Slots   int `json:"slots"`
		Running int `json:"running"`
	} `json:"serving"`
}

type memory struct {
	BudgetBytes    int64 `json:"budget_bytes"`
	UsedBytes      int64 `json:"used_bytes"`
	AvailableBytes int64 `json:"available_bytes"`
	Models         int   `json:"models"`
}

func TestServersStartStopPin(t *testing.T) {
	env := startLib(t, libOptions{Pool: pool.Config{BudgetBytes: 512 << 20}})
	env.install(t, "test/a", tinySpec)
	env.install(t, "test/b", modeltest.Spec{Seed: 4})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")

	// Finding 5 of issue #27: any user could unload a model others were using. By
	// default loading, unloading and pinning are for admins; a setting opens them to users.
	for _, path := range []string{"/api/servers/start", "/api/servers/stop"} {
		if e := env.Error(t, "POST", path, user, map[string]any{"model": "test/a"}, http.StatusForbidden); *e.Code != "admin_required" {
			t.Fatalf("%s by a user: code %q", path, *e.Code)
		}
	}
	env.Error(t, "POST", "/api/servers/test/a/pin", user, nil, http.StatusForbidden)
	env.JSON(t, "PUT", "/api/settings/auth", env.Admin, map[string]any{"users_control_servers": true}, http.StatusOK, nil)

	var overview struct {
		Servers []server `json:"servers"`
		Memory  memory   `json:"memory"`
	}
	env.JSON(t, "GET", "/api/servers", user, nil, http.StatusOK, &overview)
	if len(overview.Servers) != 0 || overview.Memory.BudgetBytes != 512<<20 || overview.Memory.UsedBytes != 0 {
		t.Fatalf("idle overview = %+v", overview)
	}

	var s server
	env.JSON(t, "POST", "/api/servers/start", user, map[string]any{"model": "test/a", "ttl_seconds": 600}, http.StatusOK, &s)
	if s.Model != "test/a" || s.State != "ready" || s.ResidentBytes == 0 || s.MemoryBytes < s.ResidentBytes || s.TTLSeconds != 600 || s.Pinned {
		t.Errorf("started = %+v", s)
	}
	env.JSON(t, "POST", "/api/servers/start", user, map[string]any{"model": "test/b", "pin": true}, http.StatusOK, &s)
	if !s.Pinned {
		t.Errorf("started pinned = %+v", s)
	}
	var list []server
	env.JSON(t, "GET", "/api/servers/models", user, nil, http.StatusOK, &list)
	if len(list) != 2 {
		t.Fatalf("servers = %+v", list)
	}
	var local []localItem
	env.JSON(t, "GET", "/api/models/local", user, nil, http.StatusOK, &local)
	if len(local) != 2 || !local[0].Loaded || !local[1].Loaded {
		t.Errorf("local models while loaded = %+v", local)
	}
	var mem memory
	env.JSON(t, "GET", "/api/servers/memory", user, nil, http.StatusOK, &mem)
	if mem.Models != 2 || mem.UsedBytes < list[0].MemoryBytes+list[1].MemoryBytes || mem.AvailableBytes != mem.BudgetBytes-mem.UsedBytes {
		t.Errorf("memory = %+v for %+v", mem, list)
	}

	env.JSON(t, "POST", "/api/servers/test/a/pin", user, nil, http.StatusOK, &s)
	if !s.Pinned || s.TTLSeconds != 600 {
		t.Errorf("pinned = %+v", s)
	}
	env.JSON(t, "POST", "/api/servers/test/a/unpin", user, nil, http.StatusOK, &s)
	if s.Pinned {
		t.Errorf("unpinned = %+v", s)
	}

	// A model serving a request is not stopped unless asked to wait.
	release, err := env.Engine.Hold(t.Context(), "test/a")
	if err != nil {
		t.Fatal(err)
	}
	if e := env.Error(t, "POST", "/api/servers/stop", user, map[string]any{"model": "test/a"}, http.StatusConflict); *e.Code != "model_busy" {
		t.Errorf("stop busy: %+v", e)
	}
	env.JSON(t, "GET", "/api/servers/models", user, nil, http.StatusOK, &list)
	for _, s := range list {
		if s.Model == "test/a" && s.InFlight != 1 {
			t.Errorf("busy model shows %d in flight", s.InFlight)
		}
		if s.Model == "test/a" && (s.Serving == nil || s.Serving.Slots != 4 || s.Serving.Running != 0) {
			t.Errorf("a held model's scheduler: %+v (a hold takes no slot)", s.Serving)
		}
	}
	release()
	env.JSON(t, "POST", "/api/servers/stop", user, map[string]any{"model": "test/a"}, http.StatusOK, nil)
	env.JSON(t, "POST", "/api/servers/stop", user, map[string]any{"model": "test/b", "wait": true}, http.StatusOK, nil)
	env.JSON(t, "GET", "/api/servers/models", user, nil, http.StatusOK, &list)
	if len(list) != 0 {
		t.Errorf("after stops: %+v", list)
	}

	cases := []struct {
		name, method, path string
		body               any
		want               int
		code               string
	}{
		{"stop unloaded", "POST", "/api/servers/stop", map[string]any{"model": "test/a"}, http.StatusNotFound, "model_not_loaded"},
		{"pin unloaded", "POST", "/api/servers/test/a/pin", nil, http.StatusNotFound, "model_not_loaded"},
		{"start missing", "POST", "/api/servers/start", map[string]any{"model": "test/none"}, http.StatusNotFound, "model_not_found"},
		{"start a path", "POST", "/api/servers/start", map[string]any{"model": "/etc"}, http.StatusBadRequest, "invalid_repo_id"},
		{"start nothing", "POST", "/api/servers/start", map[string]any{}, http.StatusBadRequest, ""},
		{"start both", "POST", "/api/servers/start", map[string]any{"model": "test/a", "profile_id": "x"}, http.StatusBadRequest, ""},
		{"start bad ttl", "POST", "/api/servers/start", map[string]any{"model": "test/a", "ttl_seconds": 0}, http.StatusBadRequest, ""},
		{"start unknown profile", "POST", "/api/servers/start", map[string]any{"profile_id": "nope"}, http.StatusNotFound, "profile_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env.Error(t, tc.method, tc.path, user, tc.body, tc.want)
			if tc.code != "" && (e.Code == nil || *e.Code != tc.code) {
				t.Errorf("code %v, want %s (%s)", e.Code, tc.code, e.Message)
			}
		})
	}
	if n := countAudit(t, env, "model.load"); n != 2 {
		t.Errorf("%d model.load audit events, want 2", n)
	}
	if n := countAudit(t, env, "model.unload"); n != 2 {
		t.Errorf("%d model.unload audit events, want 2", n)
	}
}

func TestServerFromProfile(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	var p profile
	env.JSON(t, "POST", "/api/profiles", env.Admin, map[string]any{"name": "Short lived", "model": "test/a", "ttl_seconds": 120}, http.StatusCreated, &p)
	var s server
	env.JSON(t, "POST", "/api/servers/start", env.Admin, map[string]any{"profile_id": p.ID}, http.StatusOK, &s)
	if s.Model != "test/a" || s.TTLSeconds != 120 || len(s.Profiles) != 1 || s.Profiles[0] != "Short lived" {
		t.Errorf("started from profile: %+v", s)
	}
	env.JSON(t, "POST", "/api/servers/stop", env.Admin, map[string]any{"profile_id": p.ID}, http.StatusOK, nil)
}

func TestServersWithoutEngine(t *testing.T) {
	env := startLib(t, libOptions{NoEngine: true, NoHub: true})
	for _, path := range []string{"/api/servers", "/api/servers/memory", "/api/models/local"} {
		if e := env.Error(t, "GET", path, env.Admin, nil, http.StatusServiceUnavailable); *e.Code != "engine_unavailable" {
			t.Errorf("%s: %+v", path, e)
		}
	}
}
