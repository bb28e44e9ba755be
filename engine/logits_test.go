package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

func TestLogits(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 4})
	ctx := context.Background()
	ids := []int32{1, 45, 300, 7}
	all, err := e.Logits(ctx, LogitsRequest{Model: dir, IDs: ids, All: true})
	if err != nil {
		t.Fatal(err)
	}
	last, err := e.Logits(ctx, LogitsRequest{Model: dir, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Logits) != len(ids) || len(last.Logits) != 1 || len(last.Logits[0]) != 512 {
		t.Fatalf("%d and %d rows", len(all.Logits), len(last.Logits))
	}
	// Prefill of the whole prompt and one token at a time agree.
	for i, v := range last.Logits[0] {
		if d := v - all.Logits[len(ids)-1][i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("logit %d: %g prefilled, %g step by step", i, v, all.Logits[len(ids)-1][i])
		}
	}
	// Each position depends on the tokens before it only.
	prefix, err := e.Logits(ctx, LogitsRequest{Model: dir, IDs: ids[:2]})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range prefix.Logits[0] {
		if d := v - all.Logits[1][i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("position 1 logit %d: %g alone, %g in the longer sequence", i, v, all.Logits[1][i])
		}
	}

	for name, req := range map[string]LogitsRequest{
		"neither":       {Model: dir},
		"both":          {Model: dir, IDs: ids, Text: "x"},
		"outside vocab": {Model: dir, IDs: []int32{1, 512}},
		"negative":      {Model: dir, IDs: []int32{-1}},
	} {
		if _, err := e.Logits(ctx, req); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want an invalid request", name, err)
		}
	}
	long := make([]int32, 300)
	if _, err := e.Logits(ctx, LogitsRequest{Model: dir, IDs: long}); !errors.Is(err, ErrContextLength) {
		t.Errorf("300 tokens in a context of 256: err = %v", err)
	}
}

// useRealTemplate replaces the model's chat template by one of engine/chat's
// real ones (chat/testdata/templates/<name>).
func useRealTemplate(t *testing.T, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("chat", "testdata", "templates", name, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var src struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(b, &src); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokenizer_config.json")
	if b, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, withTemplate(t, b, src.ChatTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGemmaSystemRole follows transformers: Gemma's (and Gemma 2's) template
// raises on a system message, which is the client's error (400), while
// Gemma 3's folds the system text into the first user turn.
func TestGemmaSystemRole(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	msgs := []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}

	gemma := tinyModelSpec(t, modeltest.Spec{Seed: 1})
	useRealTemplate(t, gemma, "gemma")
	_, err := e.Chat(ctx, ChatRequest{Model: gemma, Messages: msgs, Options: GenOptions{MaxTokens: 1}}, nil)
	var inv *InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "System role not supported") {
		t.Errorf("gemma with a system message: err = %v, want the template's refusal as an invalid request", err)
	}

	gemma3 := tinyModelSpec(t, modeltest.Spec{Seed: 1})
	useRealTemplate(t, gemma3, "gemma3")
	text, err := e.RenderChat(ctx, gemma3, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>") {
		t.Errorf("gemma3 rendered %q, want the system text at the start of the user turn", text)
	}
}
