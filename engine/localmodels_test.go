package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

func TestCheckLocalFolder(t *testing.T) {
	good := tinyModel(t)
	root := t.TempDir()
	mk := func(name string, files ...string) string {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	noWeights := mk("noweights", "config.json")
	noConfig := mk("noconfig", "model.safetensors")
	configDir := mk("configdir", "model.safetensors")
	if err := os.Mkdir(filepath.Join(configDir, "config.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	resolved, err := filepath.EvalSymlinks(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string // want "" : refused
	}{
		{"a model folder", good, resolved},
		{"through a symlink: the target", link, resolved},
		{"unclean but absolute", good + "/../" + filepath.Base(good) + "/", resolved},
		{"relative", "models/x", ""},
		{"home-relative", "~/models/x", ""},
		{"missing", filepath.Join(root, "absent"), ""},
		{"a file", filepath.Join(good, "config.json"), ""},
		{"no weights", noWeights, ""},
		{"no config.json", noConfig, ""},
		{"config.json is a folder", configDir, ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckLocalFolder(tc.path)
			if tc.want == "" {
				c, ok := Classify(err)
				if !errors.Is(err, ErrInvalidLocalFolder) || !ok || c.Code != "invalid_local_folder" {
					t.Errorf("CheckLocalFolder(%q) = %q, %v; want ErrInvalidLocalFolder", tc.path, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("CheckLocalFolder(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
		})
	}
}

func TestParseLocalName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"m", "local/m"}, {"local/m", "local/m"}, {"Qwen3-0.6B_q4.x", "local/Qwen3-0.6B_q4.x"},
		{"", ""}, {"local/", ""}, {"a/b", ""}, {"local/a/b", ""}, {"../x", ""}, {"/etc", ""}, {"a b", ""}, {"..", ""},
	} {
		ref, err := ParseLocalName(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidModelRef) {
				t.Errorf("ParseLocalName(%q) = %q, %v; want ErrInvalidModelRef", tc.in, ref, err)
			}
			continue
		}
		if err != nil || ref.String() != tc.want || !ref.IsLocal() {
			t.Errorf("ParseLocalName(%q) = %q (local %v), %v; want %q", tc.in, ref, ref.IsLocal(), err, tc.want)
		}
	}
	if r, _ := ParseModelRef("org/m"); r.IsLocal() {
		t.Error("org/m is local")
	}
}

// TestLocalModels: a server's engine (no Folders) runs a registered folder
// under its local/ name and lists it; an unregistered local/ name is a repo
// id of the models dir like any other (never a folder), and a name the models
// dir has cannot be registered; deleting unregisters and leaves the folder.
func TestLocalModels(t *testing.T) {
	dir := tinyModel(t)
	base := newTestEngine(t)
	e, err := New(Options{ModelsDir: t.TempDir(), Logger: base.log, NewRunner: base.newRunner, Pool: pool.Config{BudgetBytes: 1 << 30},
		LocalModels: []LocalFolder{{Name: "local/kept", Path: filepath.Join(t.TempDir(), "gone")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()

	// Not registered: the models dir's, or not found.
	installTiny(t, e, "local/cached")
	if err := e.Load(ctx, "local/cached", LoadOptions{}); err != nil {
		t.Fatalf("Load of a local/ repo of the models dir: %v", err)
	}
	if err := e.Load(ctx, "local/tiny", LoadOptions{}); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("Load of an unregistered local/ name: %v, want ErrModelNotFound", err)
	}
	ref, err := ParseLocalName("tiny")
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := CheckLocalFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddLocalModel(ref, resolved); err != nil {
		t.Fatal(err)
	}
	if err := e.AddLocalModel(ref, resolved); !errors.Is(err, ErrLocalExists) {
		t.Errorf("registering a name twice: %v, want ErrLocalExists", err)
	}
	if err := e.AddLocalModel(mustRef(t, "local/cached"), resolved); !errors.Is(err, ErrLocalExists) {
		t.Errorf("registering a name of the models dir: %v, want ErrLocalExists", err)
	}
	if err := e.AddLocalModel(mustRef(t, "org/m"), resolved); !errors.Is(err, ErrInvalidModelRef) {
		t.Errorf("registering a Hub name: %v, want ErrInvalidModelRef", err)
	}
	res, err := e.Chat(ctx, ChatRequest{Model: "local/tiny", Messages: []Message{{Role: "user", Content: "hi"}}, Options: GenOptions{MaxTokens: 3}}, nil)
	if err != nil || res.Usage.CompletionTokens == 0 {
		t.Fatalf("Chat with local/tiny = %+v, %v", res, err)
	}

	list, err := e.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]ModelInfo{}
	for _, m := range list {
		byID[m.ID] = m
	}
	if m := byID["local/tiny"]; m.Path != resolved || !m.Supported || !m.Loaded || !m.Registered || m.SizeBytes <= 0 {
		t.Errorf("listed local/tiny = %+v", m)
	}
	if m, ok := byID["local/kept"]; !ok || m.Supported {
		t.Errorf("a registered folder that is gone: %+v, listed %v; want listed, unsupported", m, ok)
	}
	if m, ok := byID["local/cached"]; len(list) != 3 || !ok || m.Registered {
		t.Errorf("Models = %+v: want local/cached, local/tiny and local/kept", list)
	}
	if raw, size, ok := e.LocalConfig(ref); !ok || len(raw) == 0 || size <= 0 {
		t.Errorf("LocalConfig(local/tiny) = %d bytes, %d, %v", len(raw), size, ok)
	}
	if _, err := e.StartDownload(ctx, ref); err == nil {
		t.Error("StartDownload of a local model: no error")
	}

	del, err := e.DeleteModel(ctx, "local/tiny")
	if err != nil || !del.Unloaded || !del.Unregistered || del.FreedBytes != 0 {
		t.Fatalf("DeleteModel(local/tiny) = %+v, %v", del, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Errorf("deleting a local model touched its folder: %v", err)
	}
	if _, err := e.Model(ctx, "local/tiny"); !errors.Is(err, ErrModelNotFound) {
		t.Errorf("Model after unregistering: %v, want ErrModelNotFound", err)
	}
	if _, err := e.DeleteModel(ctx, "local/tiny"); !errors.Is(err, hub.ErrNotCached) {
		t.Errorf("deleting it again: %v, want ErrNotCached (not in the models dir either)", err)
	}
	if got := e.LocalModels(); len(got) != 1 || got[0].Name != "local/kept" {
		t.Errorf("LocalModels = %+v", got)
	}
}
