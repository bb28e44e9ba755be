package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
)

// alienArch is an architecture no family registers.
const alienArch = "AlienForCausalLM"

// alienConfig rewrites a tiny model's config.json to name alienArch.
func alienConfig(t *testing.T, raw []byte) []byte {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["architectures"] = []string{alienArch}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantRefusal checks a message names the architecture and what runs instead.
func wantRefusal(t *testing.T, where, msg string) {
	t.Helper()
	if !strings.Contains(msg, alienArch) || !strings.Contains(msg, "LlamaForCausalLM") || !strings.Contains(msg, "Qwen3ForCausalLM") {
		t.Errorf("%s: %q does not name %s and the supported architectures", where, msg, alienArch)
	}
}

// TestUnsupportedArchitecture: a model whose architecture the engine cannot run
// is marked as such in the Hub search and the local list, before anyone
// downloads or loads it, and loading it is a 400 naming the architecture and
// the supported ones in every protocol (it was a 500 "internal error" on /v1).
func TestUnsupportedArchitecture(t *testing.T) {
	const id = "mlx-community/Alien-4bit"
	repo := hubRepo(t, id, tinySpec)
	for i, f := range repo.Files {
		if f.Path == "config.json" {
			repo.Files[i].Data = alienConfig(t, f.Data)
		}
	}
	env := startLib(t, libOptions{Repos: []hubtest.Repo{repo}})
	env.install(t, id, tinySpec)
	snaps, err := filepath.Glob(filepath.Join(env.Models, "models--mlx-community--Alien-4bit", "snapshots", "*", "config.json"))
	if err != nil || len(snaps) != 1 {
		t.Fatalf("installed config: %v %v", snaps, err)
	}
	raw, err := os.ReadFile(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snaps[0], alienConfig(t, raw), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("search marks it", func(t *testing.T) {
		var found []struct {
			ID           string `json:"id"`
			Architecture string `json:"architecture"`
			Supported    *bool  `json:"supported"`
			Reason       string `json:"unsupported_reason"`
		}
		env.JSON(t, "GET", "/api/models/search", env.Admin, nil, http.StatusOK, &found)
		if len(found) != 1 || found[0].Supported == nil || *found[0].Supported || found[0].Architecture != alienArch {
			t.Fatalf("search = %+v, want %s marked unsupported", found, id)
		}
		wantRefusal(t, "search", found[0].Reason)
	})
	t.Run("local list marks it", func(t *testing.T) {
		var local []engine.ModelInfo
		env.JSON(t, "GET", "/api/models/local", env.Admin, nil, http.StatusOK, &local)
		if len(local) != 1 || local[0].Supported || local[0].Architecture != alienArch {
			t.Fatalf("local = %+v", local)
		}
		wantRefusal(t, "local", local[0].Unsupported)
	})
	t.Run("load refused", func(t *testing.T) {
		eb := env.Error(t, "POST", "/api/servers/start", env.Admin, map[string]any{"model": id}, http.StatusBadRequest)
		if eb.Code == nil || *eb.Code != "model_not_supported" || eb.Type != "invalid_request_error" {
			t.Errorf("start: %+v", eb)
		}
		wantRefusal(t, "start", eb.Message)
	})
	openai := []struct{ path string }{{"/v1/completions"}, {"/v1/chat/completions"}, {"/v1/embeddings"}}
	bodies := map[string]map[string]any{
		"/v1/completions":      {"model": id, "prompt": "hi", "max_tokens": 2},
		"/v1/chat/completions": {"model": id, "messages": []map[string]string{{"role": "user", "content": "hi"}}, "max_tokens": 2},
		"/v1/embeddings":       {"model": id, "input": "hi"},
	}
	for _, tt := range openai {
		t.Run(tt.path, func(t *testing.T) {
			eb := env.Error(t, "POST", tt.path, env.Admin, bodies[tt.path], http.StatusBadRequest)
			if eb.Code == nil || *eb.Code != "model_not_supported" || eb.Param == nil || *eb.Param != "model" {
				t.Errorf("%s: %+v", tt.path, eb)
			}
			wantRefusal(t, tt.path, eb.Message)
		})
	}
	t.Run("/v1/messages", func(t *testing.T) {
		var body struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		env.JSON(t, "POST", "/v1/messages", env.Admin, map[string]any{"model": id, "max_tokens": 2,
			"messages": []map[string]string{{"role": "user", "content": "hi"}}}, http.StatusBadRequest, &body)
		if body.Type != "error" || body.Error.Type != "invalid_request_error" {
			t.Errorf("messages: %+v", body)
		}
		wantRefusal(t, "/v1/messages", body.Error.Message)
	})
}
