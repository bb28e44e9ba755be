package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

const (
	opsModel  = "test/tiny"
	opsCommit = "0123456789abcdef0123456789abcdef01234567"
)

// opsEnv is a real server with an engine over a models dir holding one tiny
// random model, an admin token and an admin API key.
type opsEnv struct {
	*apitest.Server
	eng   *engine.Engine
	admin string
	key   string
}

func startOps(t *testing.T) *opsEnv {
	t.Helper()
	root := t.TempDir()
	installTiny(t, root, opsModel)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := engine.New(engine.Options{ModelsDir: root, Logger: quiet,
		Pool: pool.Config{BudgetBytes: -1, Logger: quiet},
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 1, Logger: quiet})
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() }) // runs after the server's shutdown, registered later
	s := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) { o.Engine = eng }})
	env := &opsEnv{Server: s, eng: eng, admin: s.Admin(t)}
	var key struct {
		Key string `json:"key"`
	}
	s.JSON(t, "POST", "/api/auth/api-keys", env.admin, map[string]string{"name": "scraper"}, http.StatusCreated, &key)
	env.key = key.Key
	return env
}

// installTiny writes a tiny random model into a Hugging Face cache at root.
func installTiny(t *testing.T, root, id string) {
	t.Helper()
	repo := filepath.Join(root, "models--"+strings.ReplaceAll(id, "/", "--"))
	snap := filepath.Join(repo, "snapshots", opsCommit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(snap, modeltest.Spec{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(opsCommit), 0o644); err != nil {
		t.Fatal(err)
	}
}

// scrape reads /metrics into a map from series ("name{labels}") to value.
func (e *opsEnv) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	resp := e.Do(t, "GET", "/metrics", e.key, nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// waitMetric scrapes until series reaches at least want.
func (e *opsEnv) waitMetric(t *testing.T, series string, want float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := e.scrape(t)
		if m[series] >= want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want >= %v", series, m[series], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *opsEnv) chat(t *testing.T, maxTokens int) {
	t.Helper()
	body := map[string]any{"model": opsModel, "max_tokens": maxTokens, "temperature": 0,
		"logit_bias": map[string]float64{"2": -100}, // no EOS: exact token counts
		"messages":   []map[string]string{{"role": "user", "content": "Hello"}}}
	e.JSON(t, "POST", "/v1/chat/completions", e.key, body, http.StatusOK, nil)
}

func TestMetricsAccess(t *testing.T) {
	e := startOps(t)
	_, user := e.ApprovedUser(t, e.admin, "user@example.com")
	var userKey struct {
		Key string `json:"key"`
	}
	e.JSON(t, "POST", "/api/auth/api-keys", user, map[string]string{"name": "mine"}, http.StatusCreated, &userKey)
	cases := []struct {
		name, cred string
		want       int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"user session", user, http.StatusForbidden},
		{"user api key", userKey.Key, http.StatusOK},
		{"admin session", e.admin, http.StatusOK},
		{"admin api key", e.key, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.Do(t, "GET", "/metrics", tc.cred, nil)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	t.Run("query token refused", func(t *testing.T) {
		e.Error(t, "GET", "/metrics?token="+e.key, "", nil, http.StatusUnauthorized)
	})
}

func TestMetricsRequests(t *testing.T) {
	e := startOps(t)
	for i := 0; i < 3; i++ {
		e.JSON(t, "GET", "/health", "", nil, http.StatusOK, nil)
	}
	e.Error(t, "GET", "/api/no/such/route", "", nil, http.StatusNotFound)
	e.Error(t, "GET", "/api/servers", "", nil, http.StatusUnauthorized)
	m := e.scrape(t)
	for series, want := range map[string]float64{
		`mlx_manager_http_requests_total{route="/health",method="GET",status="200"}`:          3,
		`mlx_manager_http_requests_total{route="/api/servers",method="GET",status="401"}`:     1,
		`mlx_manager_http_request_duration_seconds_count{route="/health"}`:                    3,
		`mlx_manager_http_request_duration_seconds_bucket{route="/health",le="+Inf"}`:         3,
		`mlx_manager_http_requests_in_flight`:                                                 1, // this scrape
		`mlx_manager_pool_models_loaded`:                                                      0,
		`mlx_manager_build_info{version="test"}`:                                              1,
		`mlx_manager_http_requests_total{route="/api/auth/login",method="POST",status="200"}`: 1,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	var unknown float64
	for series, v := range m {
		if strings.Contains(series, `/no/such`) {
			t.Errorf("an unknown path became a series: %s", series)
		}
		if strings.HasPrefix(series, "mlx_manager_http_requests_total{") && strings.Contains(series, `status="404"`) {
			unknown += v
		}
	}
	if unknown != 1 {
		t.Errorf("404s counted %v, want 1", unknown)
	}
	if m["go_goroutines"] <= 0 || m["go_heap_objects_bytes"] <= 0 {
		t.Errorf("runtime gauges missing: goroutines %v heap %v", m["go_goroutines"], m["go_heap_objects_bytes"])
	}
}

func TestMetricsGeneration(t *testing.T) {
	e := startOps(t)
	e.chat(t, 5) // loads the model: a miss
	m := e.waitMetric(t, `mlx_manager_pool_loads_total{result="ready"}`, 1)
	if m[`mlx_manager_pool_model_resident_bytes{model="test/tiny",state="ready"}`] <= 0 {
		t.Errorf("resident bytes of the loaded model not reported")
	}
	e.chat(t, 3) // already loaded: a hit
	m = e.scrape(t)
	for series, want := range map[string]float64{
		`mlx_manager_generated_tokens_total{model="test/tiny"}`:                                    8,
		`mlx_manager_pool_requests_total{result="miss"}`:                                           1,
		`mlx_manager_pool_requests_total{result="hit"}`:                                            1,
		`mlx_manager_pool_load_duration_seconds_count`:                                             1,
		`mlx_manager_time_to_first_token_seconds_count{model="test/tiny"}`:                         2,
		`mlx_manager_decode_tokens_per_second_count{model="test/tiny"}`:                            2,
		`mlx_manager_pool_models_loaded`:                                                           1,
		`mlx_manager_pool_queue_depth{model="test/tiny",state="ready"}`:                            0,
		`mlx_manager_pool_model_in_flight{model="test/tiny",state="ready"}`:                        0,
		`mlx_manager_http_requests_total{route="/v1/chat/completions",method="POST",status="200"}`: 2,
		`mlx_manager_sched_slots{model="test/tiny"}`:                                               4,
		`mlx_manager_sched_running_sequences{model="test/tiny"}`:                                   0,
		`mlx_manager_sched_waiting_sequences{model="test/tiny"}`:                                   0,
		`mlx_manager_sched_suspended_sequences{model="test/tiny"}`:                                 0,
		`mlx_manager_sched_running_users{model="test/tiny"}`:                                       0,
		`mlx_manager_sched_batch_size{model="test/tiny"}`:                                          1,
		`mlx_manager_prefix_cache_lookups{model="test/tiny"}`:                                      2,
		`mlx_manager_prefix_cache_sequences{model="test/tiny"}`:                                    1,
		`mlx_manager_prefix_cache_hits{model="test/tiny"}`:                                         1, // the same chat again
		`mlx_manager_prefix_cache_hit_ratio{model="test/tiny"}`:                                    0.5,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if m[`mlx_manager_prompt_tokens_total{model="test/tiny"}`] <= 0 {
		t.Error("prompt tokens not counted")
	}

	if err := e.eng.Unload(context.Background(), opsModel, pool.UnloadOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	m = e.waitMetric(t, `mlx_manager_pool_unloads_total{reason="unload"}`, 1)
	if m[`mlx_manager_pool_models_loaded`] != 0 {
		t.Errorf("models loaded after unload = %v", m[`mlx_manager_pool_models_loaded`])
	}
	e.chat(t, 2) // loaded again: a miss
	if got := e.scrape(t)[`mlx_manager_pool_requests_total{result="miss"}`]; got != 2 {
		t.Errorf("misses after a reload = %v, want 2", got)
	}
}

func TestReady(t *testing.T) {
	type ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	t.Run("with engine", func(t *testing.T) {
		e := startOps(t)
		var r ready
		e.JSON(t, "GET", "/health/ready", "", nil, http.StatusOK, &r)
		if r.Status != "ready" || r.Checks["store"] != "ok" || r.Checks["engine"] != "ok" {
			t.Fatalf("ready = %+v", r)
		}
		e.eng.Close()
		e.JSON(t, "GET", "/health/ready", "", nil, http.StatusServiceUnavailable, &r)
		if r.Status != "not_ready" || r.Checks["engine"] != "stopped" {
			t.Fatalf("after the engine stopped: %+v", r)
		}
		e.JSON(t, "GET", "/health", "", nil, http.StatusOK, nil) // liveness is unaffected
	})
	t.Run("without engine", func(t *testing.T) {
		s := apitest.Start(t, apitest.Options{})
		var r ready
		s.JSON(t, "GET", "/health/ready", "", nil, http.StatusServiceUnavailable, &r)
		if r.Checks["engine"] != "not configured" || r.Checks["store"] != "ok" {
			t.Fatalf("ready = %+v", r)
		}
	})
	t.Run("store closed", func(t *testing.T) {
		st, err := store.Open(t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := api.New(api.Options{Addr: "127.0.0.1:0", Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1/health/ready", nil))
		var r ready
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || w.Code != http.StatusServiceUnavailable || r.Checks["store"] == "ok" {
			t.Fatalf("status %d, ready %s", w.Code, w.Body)
		}
	})
}
