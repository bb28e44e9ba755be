package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

type searchItem struct {
	ID            string `json:"id"`
	PipelineTag   string `json:"pipeline_tag"`
	SizeBytes     int64  `json:"size_bytes"`
	Downloaded    bool   `json:"downloaded"`
	Architecture  string `json:"architecture"`
	ContextLength int    `json:"context_length"`
	Supported     *bool  `json:"supported"`
	EstimateBytes int64  `json:"estimate_bytes"`
	Fits          *bool  `json:"fits"`
	Quantization  string `json:"quantization"`
	Downloads     int64  `json:"downloads"`
}

func TestSearch(t *testing.T) {
	small := hubRepo(t, "mlx-community/Tiny-Llama-4bit", tinySpec)
	big := hubRepo(t, "mlx-community/Bigger-Llama", modeltest.Spec{Seed: 3, Hidden: 128, Intermediate: 256, Heads: 8, KVHeads: 4})
	big.Downloads = 1000
	noConfig := hubtest.Repo{ID: "other/NoConfig", Tags: []string{"mlx", "safetensors"},
		Files: []hubtest.File{hubtest.RandomFile("model.safetensors", 2000, 1, true)}}
	notMLX := hubtest.Repo{ID: "other/Pytorch-Only", Tags: []string{"pytorch"}, Files: small.Files}
	embedder := hubtest.Repo{ID: "sentence-transformers/Tiny-MiniLM", Tags: []string{"safetensors", "sentence-transformers"},
		PipelineTag: "sentence-similarity", Files: small.Files}
	env := startLib(t, libOptions{Repos: []hubtest.Repo{small, big, noConfig, notMLX, embedder}, Pool: pool.Config{BudgetBytes: 10 << 20}})
	env.install(t, small.ID, tinySpec)

	var all []searchItem
	env.JSON(t, "GET", "/api/models/search", env.Admin, nil, http.StatusOK, &all)
	if len(all) != 3 || all[0].ID != big.ID {
		t.Fatalf("search = %+v, want the 3 MLX repos, most downloaded first", all)
	}
	byID := map[string]searchItem{}
	for _, r := range all {
		byID[r.ID] = r
	}
	s := byID[small.ID]
	if !s.Downloaded || byID[big.ID].Downloaded {
		t.Errorf("downloaded flags: small %v, big %v", s.Downloaded, byID[big.ID].Downloaded)
	}
	if s.Architecture != "LlamaForCausalLM" || s.ContextLength != 256 || s.Supported == nil || !*s.Supported {
		t.Errorf("small = %+v, want its config read", s)
	}
	// Weights, a KV cache and the executor's margin do not fit in 10 MiB.
	if s.SizeBytes <= 0 || s.EstimateBytes <= 10<<20 || s.Fits == nil || *s.Fits {
		t.Errorf("small size %d, estimate %d, fits %v: want an estimate above the 10 MiB budget", s.SizeBytes, s.EstimateBytes, s.Fits)
	}
	if nc := byID[noConfig.ID]; nc.Supported != nil || nc.EstimateBytes != 0 || nc.Fits != nil {
		t.Errorf("repo without config.json = %+v, want no estimate", nc)
	}

	var some []searchItem
	// Embedding models: their task, and safetensors without the MLX tag.
	env.JSON(t, "GET", "/api/models/search?pipeline_tag=sentence-similarity", env.Admin, nil, http.StatusOK, &some)
	if len(some) != 1 || some[0].ID != embedder.ID || some[0].PipelineTag != "sentence-similarity" {
		t.Errorf("pipeline_tag=sentence-similarity: %+v", some)
	}
	env.Error(t, "GET", "/api/models/search?pipeline_tag=image-to-text", env.Admin, nil, http.StatusBadRequest)
	env.JSON(t, "GET", "/api/models/search?query=tiny&limit=5", env.Admin, nil, http.StatusOK, &some)
	if len(some) != 1 || some[0].ID != small.ID {
		t.Errorf("query=tiny: %+v", some)
	}
	env.JSON(t, "GET", "/api/models/search?author=mlx-community&limit=1", env.Admin, nil, http.StatusOK, &some)
	if len(some) != 1 || some[0].ID != big.ID {
		t.Errorf("author with limit 1: %+v", some)
	}
	maxGB := float64(s.SizeBytes+1) / 1e9
	env.JSON(t, "GET", "/api/models/search?max_size_gb="+ftoa(maxGB), env.Admin, nil, http.StatusOK, &some)
	for _, r := range some {
		if r.SizeBytes > s.SizeBytes {
			t.Errorf("max_size_gb: got %s of %d bytes", r.ID, r.SizeBytes)
		}
	}
	if len(some) == 0 {
		t.Error("max_size_gb dropped every result")
	}

	// A larger budget, set live through the settings: now it fits.
	env.JSON(t, "PUT", "/api/settings/pool", env.Admin, map[string]any{"budget": 256 << 20}, http.StatusOK, nil)
	env.JSON(t, "GET", "/api/models/search?query=tiny", env.Admin, nil, http.StatusOK, &some)
	if len(some) != 1 || some[0].Fits == nil || !*some[0].Fits || some[0].EstimateBytes != s.EstimateBytes {
		t.Errorf("tiny under a 256 MiB budget: %+v", some)
	}

	for _, q := range []string{"limit=0", "limit=101", "limit=x", "max_size_gb=-1", "max_size_gb=abc", "author=a/b"} {
		env.Error(t, "GET", "/api/models/search?"+q, env.Admin, nil, http.StatusBadRequest)
	}
	env.Error(t, "GET", "/api/models/search", "", nil, http.StatusUnauthorized)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func TestSearchHubErrors(t *testing.T) {
	env := startLib(t, libOptions{})
	env.Hub.FailAPI(hubtest.Fault{Status: http.StatusInternalServerError})
	if e := env.Error(t, "GET", "/api/models/search", env.Admin, nil, http.StatusBadGateway); *e.Code != "hub_error" {
		t.Errorf("hub 500: code %v", *e.Code)
	}
	env.Hub.FailAPI(hubtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3600"})
	resp := env.Do(t, "GET", "/api/models/search", env.Admin, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("hub 429: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// Offline mode: refused before any Hub call, with a clear code.
	env.JSON(t, "PUT", "/api/settings/hub", env.Admin, map[string]any{"offline": true}, http.StatusOK, nil)
	before := len(env.Hub.Requests())
	if e := env.Error(t, "GET", "/api/models/search", env.Admin, nil, http.StatusConflict); *e.Code != "offline_mode" {
		t.Errorf("offline: code %v", *e.Code)
	}
	if n := len(env.Hub.Requests()); n != before {
		t.Errorf("offline search made %d hub requests", n-before)
	}
}

func TestSearchHubUnreachable(t *testing.T) {
	env := startLib(t, libOptions{HubClient: func(o *hub.Options) { o.Endpoint = "http://127.0.0.1:1" }})
	resp := env.Do(t, "GET", "/api/models/search", env.Admin, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("unreachable hub: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if e := env.Error(t, "POST", "/api/models/download", env.Admin, map[string]string{"model_id": "a/b"}, http.StatusServiceUnavailable); *e.Code != "hub_unreachable" {
		t.Errorf("download from an unreachable hub: code %v", *e.Code)
	}
}

type localItem struct {
	ID            string `json:"id"`
	SizeBytes     int64  `json:"size_bytes"`
	Architecture  string `json:"architecture"`
	Parameters    int64  `json:"parameters"`
	Quantization  string `json:"quantization"`
	ContextLength int    `json:"context_length"`
	Supported     bool   `json:"supported"`
	Unsupported   string `json:"unsupported_reason"`
	Loaded        bool   `json:"loaded"`
}

func TestLocalModelsAndConfig(t *testing.T) {
	env := startLib(t, libOptions{Repos: []hubtest.Repo{
		hubRepo(t, "remote/Only-On-Hub", modeltest.Spec{Seed: 9, QuantBits: 4, GroupSize: 32}),
		{ID: "gated/Model", Gated: true, Files: []hubtest.File{{Path: "config.json", Data: []byte(`{}`)}}},
	}})
	env.install(t, "test/tiny", tinySpec)
	env.install(t, "test/qwen", modeltest.Spec{Arch: "qwen3", Seed: 2, QuantBits: 4, GroupSize: 32})

	var list []localItem
	env.JSON(t, "GET", "/api/models/local", env.Admin, nil, http.StatusOK, &list)
	if len(list) != 2 || list[0].ID != "test/qwen" || list[1].ID != "test/tiny" {
		t.Fatalf("local = %+v", list)
	}
	q := list[0]
	if !q.Supported || q.Architecture != "Qwen3ForCausalLM" || q.Quantization != "4bit" || q.Parameters == 0 || q.SizeBytes == 0 || q.ContextLength != 256 || q.Loaded {
		t.Errorf("qwen = %+v", q)
	}

	type config struct {
		Source        string `json:"source"`
		Architecture  string `json:"architecture"`
		QuantBits     int    `json:"quant_bits"`
		NumLayers     int    `json:"num_layers"`
		NumKVHeads    int    `json:"num_kv_heads"`
		Supported     bool   `json:"supported"`
		EstimateBytes int64  `json:"estimate_bytes"`
		Fits          *bool  `json:"fits"`
	}
	var local, remote config
	env.JSON(t, "GET", "/api/models/config/test/qwen", env.Admin, nil, http.StatusOK, &local)
	if local.Source != "local" || local.QuantBits != 4 || local.NumLayers != 2 || local.NumKVHeads != 2 || !local.Supported || local.EstimateBytes == 0 || local.Fits == nil {
		t.Errorf("local config = %+v", local)
	}
	env.JSON(t, "GET", "/api/models/config/remote/Only-On-Hub", env.Admin, nil, http.StatusOK, &remote)
	if remote.Source != "hub" || remote.Architecture != "LlamaForCausalLM" || remote.QuantBits != 4 || !remote.Supported {
		t.Errorf("hub config = %+v", remote)
	}
	cases := []struct {
		path string
		want int
		code string
	}{
		{"/api/models/config/nobody/Missing", http.StatusNotFound, "model_not_found"},
		{"/api/models/config/gated/Model", http.StatusForbidden, "gated_repo"},
		{"/api/models/config/bad..org/x", http.StatusBadRequest, "invalid_repo_id"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			if e := env.Error(t, "GET", tc.path, env.Admin, nil, tc.want); e.Code == nil || *e.Code != tc.code {
				t.Errorf("code %v, want %s (%s)", e.Code, tc.code, e.Message)
			}
		})
	}
}

type deleted struct {
	Model      string `json:"model"`
	FreedBytes int64  `json:"freed_bytes"`
	Unloaded   bool   `json:"unloaded"`
}

func TestDeleteModel(t *testing.T) {
	env := startLib(t, libOptions{})
	env.install(t, "test/a", tinySpec)
	env.install(t, "test/b", modeltest.Spec{Seed: 8})
	_, user := env.ApprovedUser(t, env.Admin, "user@example.com")

	env.Error(t, "DELETE", "/api/models/test/a", user, nil, http.StatusForbidden)

	var d deleted
	env.JSON(t, "DELETE", "/api/models/test/a", env.Admin, nil, http.StatusOK, &d)
	if d.Model != "test/a" || d.FreedBytes == 0 || d.Unloaded {
		t.Errorf("delete = %+v", d)
	}
	env.Error(t, "DELETE", "/api/models/test/a", env.Admin, nil, http.StatusNotFound)

	// A loaded model is unloaded first; one serving a request is refused.
	env.JSON(t, "POST", "/api/servers/start", env.Admin, map[string]any{"model": "test/b"}, http.StatusOK, nil)
	release, err := env.Engine.Hold(context.Background(), "test/b")
	if err != nil {
		t.Fatal(err)
	}
	if e := env.Error(t, "DELETE", "/api/models/test/b", env.Admin, nil, http.StatusConflict); *e.Code != "model_busy" {
		t.Errorf("busy delete: %+v", e)
	}
	release()
	env.JSON(t, "DELETE", "/api/models/test/b", env.Admin, nil, http.StatusOK, &d)
	if !d.Unloaded {
		t.Errorf("delete of a loaded model = %+v, want unloaded", d)
	}
	var list []localItem
	env.JSON(t, "GET", "/api/models/local", env.Admin, nil, http.StatusOK, &list)
	if len(list) != 0 {
		t.Errorf("local after deletes = %+v", list)
	}
	if n := countAudit(t, env, "model.delete"); n != 2 {
		t.Errorf("%d model.delete audit events, want 2", n)
	}
}

// countAudit counts the audit events of an action (or its dotted sub-actions).
func countAudit(t *testing.T, env *libEnv, action string) int {
	t.Helper()
	page, err := env.Store.Audit().Query(store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Events)
}
