//go:build !race

package engine

// The grammar-constrained generation tests: each sampled token walks masks over
// Qwen's 151k-token vocabulary, which the race detector makes ten to twenty times
// slower. They check what the grammar lets out, not concurrency (TestQwen's
// concurrent requests run under -race), so make test runs them in its pass without
// the race detector (test-norace).

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestQwenGrammar checks response_format and tool_choice on one Qwen model,
// loaded once.
func TestQwenGrammar(t *testing.T) {
	dir := qwenModel(t, "")
	e := newTestEngine(t)
	t.Run("response format", func(t *testing.T) { qwenResponseFormat(t, e, dir) })
	t.Run("tool choice", func(t *testing.T) { qwenToolChoice(t, e, dir) })
}

// seeds is how many sampled runs each case gets.
const seeds = 2

func qwenResponseFormat(t *testing.T, e *Engine, dir string) {
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			for seed := range int64(seeds) {
				var s collected
				res, err := e.Chat(context.Background(), ChatRequest{
					Model: dir, Messages: []Message{{Role: "user", Content: "Describe it as JSON."}},
					ResponseFormat: &ResponseFormat{Type: "json_schema", Schema: json.RawMessage(c.schema), Strict: true},
					Options:        sampled(seed, 400),
				}, s.add)
				if err != nil {
					t.Fatal(err)
				}
				if res.FinishReason != "stop" {
					t.Fatalf("seed %d: finish %q after %d tokens: %q", seed, res.FinishReason, res.Usage.CompletionTokens, res.Content)
				}
				if err := validateJSON(json.RawMessage(c.schema), []byte(res.Content)); err != nil {
					t.Fatalf("seed %d: %q: %v", seed, res.Content, err)
				}
				s.same(t, res)
			}
		})
	}
}

func qwenToolChoice(t *testing.T, e *Engine, dir string) {
	toolCall := map[int32]float32{qwenToolCall: 100} // the model "decides" to call a tool at once
	cases := []struct {
		name      string
		choice    ToolChoice
		parallel  bool
		bias      map[int32]float32
		wantCalls int // -1: at least one
		wantName  string
		maxTokens int
	}{
		{"required", ToolChoice{Mode: "required"}, false, nil, 1, "", 120},
		{"required parallel", ToolChoice{Mode: "required"}, true, nil, -1, "", 400},
		{"function, once even with parallel calls", ToolChoice{Mode: "function", Name: "get_time"}, true, nil, 1, "get_time", 120},
		{"auto, the model starts a call", ToolChoice{Mode: "auto"}, false, toolCall, 1, "", 120},
		{"auto, free", ToolChoice{Mode: "auto"}, false, nil, 0, "", 30},
		{"none, even when the model writes the marker", ToolChoice{Mode: "none"}, false, toolCall, 0, "", 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for seed := range int64(seeds) {
				o := sampled(seed, c.maxTokens)
				o.Sampling.LogitBias = c.bias
				var s collected
				res, err := e.Chat(context.Background(), ChatRequest{
					Model: dir, Messages: []Message{{Role: "user", Content: "What is the weather in Paris?"}},
					Tools: weatherTools, ToolChoice: c.choice, ParallelToolCalls: c.parallel, Options: o,
				}, s.add)
				if err != nil {
					t.Fatal(err)
				}
				s.same(t, res)
				checkCalls(t, weatherTools, res.ToolCalls)
				n := len(res.ToolCalls)
				switch {
				case c.wantCalls < 0 && n == 0, c.wantCalls >= 0 && n != c.wantCalls:
					t.Fatalf("seed %d: %d calls %+v, want %d; content %q", seed, n, res.ToolCalls, c.wantCalls, res.Content)
				case n > 0 && res.FinishReason != "tool_calls":
					t.Fatalf("seed %d: finish %q with calls", seed, res.FinishReason)
				case c.wantName != "" && res.ToolCalls[0].Name != c.wantName:
					t.Fatalf("seed %d: called %s, want %s", seed, res.ToolCalls[0].Name, c.wantName)
				case c.choice.Mode == "none" && !strings.Contains(res.Content, "<tool_call>"):
					t.Fatalf("seed %d: the marker is not in the content %q", seed, res.Content)
				}
			}
		})
	}
}

// TestQwenCoderFormat forces Qwen3-Coder XML calls on random weights: string
// parameters stay strings even when they look like numbers.
func TestQwenCoderFormat(t *testing.T) {
	dir := qwenModel(t, coderTemplate)
	e := newTestEngine(t)
	tools := []Tool{{Name: "set_alarm", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"enum":["UTC","CET"]},"postcode":{"const":"75001"},"hour":{"type":"integer","minimum":0,"maximum":23},"repeat":{"type":"boolean"},"days":{"type":"array","items":{"enum":[1,2,3]},"maxItems":2}},"required":["zone","postcode","hour"],"additionalProperties":false}`)}}
	for _, mode := range []string{"required", "auto"} {
		t.Run(mode, func(t *testing.T) {
			o := sampled(4, 150)
			o.Logprobs = true // to see the raw output
			if mode == "auto" {
				o.Sampling.LogitBias = map[int32]float32{qwenToolCall: 100}
			}
			var s collected
			res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "Wake me at 7."}},
				Tools: tools, ToolChoice: ToolChoice{Mode: mode}, Options: o}, s.add)
			if err != nil {
				t.Fatal(err)
			}
			s.same(t, res)
			if res.FinishReason != "tool_calls" || len(res.ToolCalls) != 1 {
				t.Fatalf("finish %q, calls %+v, content %q", res.FinishReason, res.ToolCalls, res.Content)
			}
			checkCalls(t, tools, res.ToolCalls)
			var raw []byte
			for _, lp := range res.Logprobs {
				raw = append(raw, lp.Bytes...)
			}
			if !strings.HasPrefix(string(raw), "<tool_call>\n<function=set_alarm>\n<parameter=zone>\n") {
				t.Fatalf("raw output %q", raw)
			}
		})
	}
}
