package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBaseModelWarning: a model that ships no chat template is flagged in the
// model list, and a chat with it carries a warning; one with a template is not.
func TestBaseModelWarning(t *testing.T) {
	e := newTestEngine(t)
	chatModel, base := tinyModel(t), tinyModel(t)
	cfgPath := filepath.Join(base, "tokenizer_config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "chat_template")
	if raw, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	for dir, want := range map[string]string{chatModel: "", base: WarnNoChatTemplate} {
		if got := describe(dir, dir).NoChatTemplate; got != (want != "") {
			t.Errorf("%s: no_chat_template %v", filepath.Base(filepath.Dir(dir)), got)
		}
		res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "Hi"}}, Options: GenOptions{MaxTokens: 2}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Warning != want {
			t.Errorf("warning %q, want %q", res.Warning, want)
		}
	}
}
