package v1test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// harmonyID is a tiny random GPT-OSS model with harmony's control tokens and
// openai/gpt-oss-20b's chat template: only the engine's steps make its
// output a call.
const harmonyID = "test/gpt-oss-tiny"

// startHarmony starts the daemon with harmonyID installed next to the tiny model.
func startHarmony(t *testing.T) *env {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "engine", "chat", "testdata", "templates", "gpt-oss", "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var src struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		t.Fatal(err)
	}
	e := start(t, envOptions{})
	install(t, e.eng.Cache().Root, harmonyID, func(dir string) error {
		return modeltest.WriteHarmony(dir, modeltest.Spec{Arch: "gptoss", Seed: 3, Vocab: 576, MaxPos: 4096}, src.ChatTemplate)
	})
	return e
}

// TestHarmonyToolChoice: tool_choice required or a named function on a
// gpt-oss model answers with a call whose arguments fit the tool's schema,
// whatever its random weights say; streamed, the analysis message it may
// write first comes as reasoning_content before the call.
func TestHarmonyToolChoice(t *testing.T) {
	e := startHarmony(t)
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"model": harmonyID, "messages": userMsg("What is the weather in Paris?"), "tools": weatherTools,
			"temperature": 1, "seed": 5, "max_tokens": 200}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	toCall := map[string]float64{"429": 20} // "c": the header goes straight to commentary to=functions.…
	for _, c := range []struct {
		name   string
		choice any
	}{{"required", "required"}, {"function", map[string]any{"type": "function", "function": map[string]string{"name": "get_time"}}}} {
		choice := c.choice
		t.Run(c.name, func(t *testing.T) {
			var r toolAnswer
			e.call(t, "/v1/chat/completions", body(map[string]any{"tool_choice": choice, "logit_bias": toCall}), http.StatusOK, &r)
			ch := r.Choices[0]
			if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.Content != nil && *ch.Message.Content != "" {
				t.Fatalf("finish %q, calls %+v, content %q", ch.FinishReason, ch.Message.ToolCalls, deref(ch.Message.Content))
			}
			call := ch.Message.ToolCalls[0]
			if err := checkArgs(call.Function.Name, []byte(call.Function.Arguments)); err != nil || !strings.HasPrefix(call.ID, "call_") || call.Type != "function" {
				t.Fatalf("call %+v: %v", call, err)
			}
			if choice != "required" && call.Function.Name != "get_time" {
				t.Fatalf("called %s", call.Function.Name)
			}
		})
	}

	t.Run("streamed after analysis", func(t *testing.T) {
		// "a" starts the analysis channel and writes it until <|end|> wins.
		bias := map[string]float64{"412": 20, fmt.Sprint(modeltest.HarmonyEnd): 16}
		extra := map[string]any{"tool_choice": map[string]any{"type": "function", "function": map[string]string{"name": "get_weather"}},
			"logit_bias": bias, "stream": true, "seed": 7} // a seed with which the analysis is not empty
		var reasoning, name, args, finish string
		calls := 0
		for _, ev := range e.stream(t, "/v1/chat/completions", body(extra)) {
			if ev.Data == "[DONE]" {
				break
			}
			var c struct {
				Choices []struct {
					Delta struct {
						Content          *string    `json:"content"`
						ReasoningContent string     `json:"reasoning_content"`
						ToolCalls        []wireCall `json:"tool_calls"`
					} `json:"delta"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
			}
			ev.decode(t, &c)
			for _, ch := range c.Choices {
				if ch.Delta.Content != nil && *ch.Delta.Content != "" {
					t.Errorf("content %q", *ch.Delta.Content)
				}
				if ch.Delta.ReasoningContent != "" && calls > 0 {
					t.Errorf("reasoning %q after the call started", ch.Delta.ReasoningContent)
				}
				reasoning += ch.Delta.ReasoningContent
				for _, tc := range ch.Delta.ToolCalls {
					if tc.ID != "" {
						calls++
						name = tc.Function.Name
					}
					args += tc.Function.Arguments
				}
				if ch.FinishReason != nil {
					finish = *ch.FinishReason
				}
			}
		}
		if reasoning == "" || calls != 1 || name != "get_weather" || finish != "tool_calls" {
			t.Fatalf("reasoning %q, %d calls, %s(%s), finish %q", reasoning, calls, name, args, finish)
		}
		if err := checkArgs(name, []byte(args)); err != nil {
			t.Fatal(err)
		}
	})
}
