package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestLocalModelFolder: an admin registers a folder outside the models dir
// as local/<name>; it is listed, chats through /v1, and deleting it
// unregisters it and leaves the folder. Users cannot register, and
// unregistered local/ names are unknown models.
func TestLocalModelFolder(t *testing.T) {
	env := startOps(t)
	dir := filepath.Join(t.TempDir(), "My Conversion")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(dir, modeltest.Spec{Seed: 4}); err != nil {
		t.Fatal(err)
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, userTok := env.ApprovedUser(t, env.admin, "user@example.com")

	// Unregistered: OpenAI's model_not_found, never a look at the disk.
	chat := map[string]any{"model": "local/conv", "max_tokens": 3, "messages": []map[string]string{{"role": "user", "content": "hi"}}}
	if e := env.Error(t, "POST", "/v1/chat/completions", env.key, chat, http.StatusNotFound); e.Code == nil || *e.Code != "model_not_found" {
		t.Errorf("chat with an unregistered local/ name: %+v", e)
	}

	body := map[string]string{"name": "conv", "path": dir}
	env.Error(t, "POST", "/api/models/local", userTok, body, http.StatusForbidden)
	for _, tc := range []struct {
		name  string
		body  map[string]string
		param string
	}{
		{"relative path", map[string]string{"name": "conv", "path": "models/conv"}, "path"},
		{"not a model", map[string]string{"name": "conv", "path": t.TempDir()}, "path"},
		{"bad name", map[string]string{"name": "a/b", "path": dir}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env.Error(t, "POST", "/api/models/local", env.admin, tc.body, http.StatusBadRequest)
			if e.Param == nil || *e.Param != tc.param {
				t.Errorf("error %+v, want param %s", e, tc.param)
			}
		})
	}

	var info engine.ModelInfo
	env.JSON(t, "POST", "/api/models/local", env.admin, body, http.StatusCreated, &info)
	if info.ID != "local/conv" || info.Path != resolved || !info.Supported {
		t.Fatalf("registered %+v", info)
	}
	if e := env.Error(t, "POST", "/api/models/local", env.admin, map[string]string{"name": "local/conv", "path": dir}, http.StatusConflict); e.Code == nil || *e.Code != "local_model_exists" {
		t.Errorf("registering the name twice: %+v", e)
	}

	var listed []engine.ModelInfo
	env.JSON(t, "GET", "/api/models/local", userTok, nil, http.StatusOK, &listed)
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	env.JSON(t, "GET", "/v1/models", env.key, nil, http.StatusOK, &models)
	inV1 := false
	for _, m := range models.Data {
		inV1 = inV1 || m.ID == "local/conv"
	}
	if !inV1 || len(listed) != 2 {
		t.Errorf("local/conv in /v1/models %v; /api/models/local = %+v", inV1, listed)
	}

	var answer struct {
		Model   string `json:"model"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	env.JSON(t, "POST", "/v1/chat/completions", env.key, chat, http.StatusOK, &answer)
	if answer.Model != "local/conv" || len(answer.Choices) != 1 || answer.Usage.CompletionTokens == 0 {
		t.Fatalf("chat answer %+v", answer)
	}

	env.Error(t, "DELETE", "/api/models/local/conv", userTok, nil, http.StatusForbidden)
	var del engine.DeleteResult
	env.JSON(t, "DELETE", "/api/models/local/conv", env.admin, nil, http.StatusOK, &del)
	if !del.Unloaded || del.FreedBytes != 0 {
		t.Errorf("delete = %+v", del)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Errorf("unregistering touched the folder: %v", err)
	}
	if recs, err := env.Store.LocalModels().List(); err != nil || len(recs) != 0 {
		t.Errorf("stored after delete: %+v, %v", recs, err)
	}
	env.Error(t, "POST", "/v1/chat/completions", env.key, chat, http.StatusNotFound)
}
