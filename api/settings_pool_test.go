package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

type poolSettings struct {
	Budget            any    `json:"budget"`
	MaxModels         int    `json:"max_models"`
	DefaultTTLSeconds *int64 `json:"default_ttl_seconds"`
	EvictionPolicy    string `json:"eviction_policy"`
	Effective         struct {
		BudgetBytes       int64   `json:"budget_bytes"`
		TotalRAMBytes     int64   `json:"total_ram_bytes"`
		MaxModels         int     `json:"max_models"`
		DefaultTTLSeconds float64 `json:"default_ttl_seconds"`
		Parallel          int     `json:"parallel"`
	} `json:"effective"`
}

func TestPoolSettings(t *testing.T) {
	base := pool.Config{BudgetBytes: 300 << 20, MaxQueue: 7}
	env := startLib(t, libOptions{Pool: base})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")

	var got poolSettings
	env.JSON(t, "GET", "/api/settings/pool", env.Admin, nil, http.StatusOK, &got)
	if got.Budget != nil || got.EvictionPolicy != "lru" || got.Effective.BudgetBytes != 300<<20 || got.Effective.DefaultTTLSeconds != 1800 || got.Effective.Parallel != 4 {
		t.Errorf("defaults = %+v", got)
	}

	env.JSON(t, "PUT", "/api/settings/pool", env.Admin, map[string]any{"budget": 128 << 20, "max_models": 2, "default_ttl_seconds": 60, "parallel": 6}, http.StatusOK, &got)
	if got.Effective.Parallel != 6 || env.Engine.Parallel() != 6 {
		t.Errorf("parallel not applied live: %+v", got)
	}
	if got.Budget != float64(128<<20) || got.Effective.BudgetBytes != 128<<20 || got.Effective.MaxModels != 2 || got.Effective.DefaultTTLSeconds != 60 {
		t.Errorf("after put = %+v", got)
	}
	if mem := env.Engine.Memory(); mem.BudgetBytes != 128<<20 || mem.MaxModels != 2 {
		t.Errorf("pool not updated live: %+v", mem)
	}
	// Persisted, and applied to a new pool at the next start over the daemon's config.
	cfg, err := api.LoadPoolConfig(env.Store, base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BudgetBytes != 128<<20 || cfg.MaxModels != 2 || cfg.DefaultTTL != time.Minute || cfg.MaxQueue != 7 {
		t.Errorf("loaded config = %+v", cfg)
	}
	p, err := engine.New(engine.Options{ModelsDir: t.TempDir(), NewRunner: func(context.Context, *model.Model) (model.Runner, error) {
		return nil, errors.New("this engine loads nothing")
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := api.ApplyPoolSettings(env.Store, p, base); err != nil {
		t.Fatal(err)
	}
	if mem := p.Memory(); mem.BudgetBytes != 128<<20 || mem.MaxModels != 2 || p.Parallel() != 6 {
		t.Errorf("applied to a new pool: %+v, parallel %d", mem, p.Parallel())
	}

	if total, err := pool.TotalRAM(); err == nil {
		env.JSON(t, "PUT", "/api/settings/pool", env.Admin, map[string]any{"budget": "50%", "default_ttl_seconds": -1}, http.StatusOK, &got)
		if got.Budget != "50%" || got.Effective.BudgetBytes != total/2 || got.Effective.DefaultTTLSeconds >= 0 || got.Effective.MaxModels != 0 {
			t.Errorf("50%% of %d: %+v", total, got)
		}
	}

	cases := []struct {
		name  string
		body  string
		param string
	}{
		{"policy", `{"eviction_policy":"fifo"}`, "eviction_policy"},
		{"tiny budget", `{"budget":1000}`, "budget"},
		{"percent over", `{"budget":"150%"}`, "budget"},
		{"percent zero", `{"budget":"0%"}`, ""},
		{"budget word", `{"budget":"lots"}`, ""},
		{"max models", `{"max_models":-1}`, "max_models"},
		{"parallel", `{"parallel":65}`, "parallel"},
		{"ttl zero", `{"default_ttl_seconds":0}`, "default_ttl_seconds"},
		{"ttl", `{"default_ttl_seconds":-2}`, "default_ttl_seconds"},
		{"unknown", `{"budgett":1}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env.Error(t, "PUT", "/api/settings/pool", env.Admin, tc.body, http.StatusBadRequest)
			if tc.param != "" && (e.Param == nil || *e.Param != tc.param) {
				t.Errorf("param %v, want %s (%s)", e.Param, tc.param, e.Message)
			}
		})
	}
	env.Error(t, "GET", "/api/settings/pool", user, nil, http.StatusForbidden)
	env.Error(t, "PUT", "/api/settings/pool", user, `{}`, http.StatusForbidden)
	if n := countAuditTarget(t, env, "settings.update", "pool"); n < 2 {
		t.Errorf("%d pool settings audit events", n)
	}
}

func TestHubSettings(t *testing.T) {
	env := startLib(t, libOptions{})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")
	type view struct {
		Offline  bool   `json:"offline"`
		TokenSet bool   `json:"token_set"`
		Endpoint string `json:"endpoint"`
		Token    string `json:"token"`
	}
	var v view
	env.JSON(t, "GET", "/api/settings/hub", env.Admin, nil, http.StatusOK, &v)
	if v.Offline || v.TokenSet || v.Endpoint != env.Hub.URL {
		t.Errorf("defaults = %+v", v)
	}
	env.JSON(t, "PUT", "/api/settings/hub", env.Admin, map[string]any{"token": "hf_secret_value"}, http.StatusOK, &v)
	if !v.TokenSet || v.Token != "" {
		t.Errorf("after setting a token: %+v", v)
	}
	env.JSON(t, "PUT", "/api/settings/hub", env.Admin, map[string]any{"offline": true}, http.StatusOK, &v)
	if !v.Offline || !v.TokenSet {
		t.Errorf("offline keeps the token: %+v", v)
	}
	set, err := env.Store.Settings().Hub()
	if err != nil || set.Token != "hf_secret_value" || !set.Offline {
		t.Errorf("stored = %+v, %v", set, err)
	}
	env.JSON(t, "PUT", "/api/settings/hub", env.Admin, map[string]any{"token": "", "offline": false}, http.StatusOK, &v)
	if v.TokenSet || v.Offline {
		t.Errorf("after clearing: %+v", v)
	}
	env.Error(t, "PUT", "/api/settings/hub", env.Admin, map[string]any{"token": "two words"}, http.StatusBadRequest)
	env.Error(t, "GET", "/api/settings/hub", user, nil, http.StatusForbidden)
	env.Error(t, "PUT", "/api/settings/hub", user, map[string]any{"offline": true}, http.StatusForbidden)

	page, err := env.Store.Audit().Query(store.AuditFilter{Action: "settings.update"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range page.Events {
		if ev.Target == "hub" && (containsSecret(ev.Detail) || containsSecret(ev.Endpoint)) {
			t.Errorf("audit event leaks the token: %+v", ev)
		}
	}
}

func containsSecret(s string) bool { return strings.Contains(s, "hf_secret_value") }

func countAuditTarget(t *testing.T, env *libEnv, action, target string) int {
	t.Helper()
	page, err := env.Store.Audit().Query(store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range page.Events {
		if ev.Target == target {
			n++
		}
	}
	return n
}
