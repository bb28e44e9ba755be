package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// Ids of the control tokens markerModel adds after the tiny tokenizer's 512.
const (
	toolCallsToken = 512 // [TOOL_CALLS]
	pythonTagToken = 513 // <|python_tag|>
)

// markerModel writes the tiny random model with [TOOL_CALLS] and
// <|python_tag|> as special tokens, as Mistral's and Llama 3.1's tokenizers
// have them, and the chat template of the named real model (testdata of
// engine/chat).
func markerModel(t *testing.T, templateDir string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "markers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(dir, modeltest.Spec{Seed: 2, Vocab: 576, MaxPos: 4096}); err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	readJSON(t, filepath.Join(dir, "tokenizer.json"), &tok)
	added := tok["added_tokens"].([]any)
	for id, s := range map[int]string{toolCallsToken: "[TOOL_CALLS]", pythonTagToken: "<|python_tag|>"} {
		added = append(added, map[string]any{"id": id, "content": s, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true})
	}
	tok["added_tokens"] = added
	writeJSON(t, filepath.Join(dir, "tokenizer.json"), tok)

	var src struct {
		ChatTemplate string `json:"chat_template"`
	}
	readJSON(t, filepath.Join("chat", "testdata", "templates", templateDir, "tokenizer_config.json"), &src)
	var cfg map[string]any
	readJSON(t, filepath.Join(dir, "tokenizer_config.json"), &cfg)
	cfg["chat_template"] = src.ChatTemplate
	cfg["additional_special_tokens"] = []string{"[TOOL_CALLS]", "<|python_tag|>"}
	writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), cfg)
	return dir
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

var tinyTools = []Tool{
	{Name: "get_time", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"enum":["UTC","CET"]},"hours":{"type":"integer","minimum":0,"maximum":23}},"required":["zone","hours"],"additionalProperties":false}`)},
	{Name: "ping", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}`)},
}

// TestSpecialTokenMarkers forces calls in formats whose marker is a control
// token, which a grammar's masks never allow: Mistral's [TOOL_CALLS] is
// forced as a token before the grammar, Llama's calls are bare JSON; and a
// marker the model writes itself starts the lazy grammar.
func TestSpecialTokenMarkers(t *testing.T) {
	e := newTestEngine(t)
	cases := []struct {
		name, template string
		format         chat.Format
		choice         ToolChoice
		parallel       bool
		bias           int32  // token pushed to the top; -1 none
		first          string // the first token of the output, when it is a marker
	}{
		{"mistral required", "mistral-nemo", chat.FormatMistral, ToolChoice{Mode: "required"}, false, -1, "[TOOL_CALLS]"},
		{"mistral required parallel", "mistral-nemo", chat.FormatMistral, ToolChoice{Mode: "required"}, true, -1, "[TOOL_CALLS]"},
		{"mistral function", "mistral-nemo", chat.FormatMistral, ToolChoice{Mode: "function", Name: "ping"}, false, -1, "[TOOL_CALLS]"},
		{"mistral auto, the model writes the marker", "mistral-nemo", chat.FormatMistral, ToolChoice{Mode: "auto"}, false, toolCallsToken, "[TOOL_CALLS]"},
		{"llama required", "llama3.1", chat.FormatLlama3, ToolChoice{Mode: "required"}, false, -1, ""},
		{"llama auto, the model writes the python tag", "llama3.1", chat.FormatLlama3, ToolChoice{Mode: "auto"}, false, pythonTagToken, "<|python_tag|>"},
	}
	dirs := map[string]string{"mistral-nemo": markerModel(t, "mistral-nemo"), "llama3.1": markerModel(t, "llama3.1")}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := sampled(3, 200)
			o.Logprobs = true
			if c.bias >= 0 {
				o.Sampling.LogitBias = map[int32]float32{c.bias: 100}
			}
			var s collected
			res, err := e.Chat(context.Background(), ChatRequest{
				Model: dirs[c.template], Messages: []Message{{Role: "user", Content: "What time is it?"}},
				Tools: tinyTools, ToolChoice: c.choice, ParallelToolCalls: c.parallel, Options: o,
			}, s.add)
			if err != nil {
				t.Fatal(err)
			}
			s.same(t, res)
			if res.FinishReason != "tool_calls" || len(res.ToolCalls) == 0 || res.Content != "" {
				t.Fatalf("finish %q, calls %+v, content %q", res.FinishReason, res.ToolCalls, res.Content)
			}
			checkCalls(t, tinyTools, res.ToolCalls)
			if c.choice.Name != "" && res.ToolCalls[0].Name != c.choice.Name {
				t.Fatalf("called %s", res.ToolCalls[0].Name)
			}
			if first := res.Logprobs[0].Token; c.first != "" && first != c.first {
				t.Fatalf("first token %q, want %q", first, c.first)
			}
		})
	}
}
