package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// Tokens of the tiny tokenizer the tests push up.
const tokA, tokC = 412, 429 // "a", "c"

// harmonyModel writes a tiny random GPT-OSS model whose tokenizer has
// harmony's control tokens, with the chat template of openai/gpt-oss-20b
// (engine/chat testdata).
func harmonyModel(t *testing.T) string {
	t.Helper()
	var src struct {
		ChatTemplate string `json:"chat_template"`
	}
	readJSON(t, filepath.Join("chat", "testdata", "templates", "gpt-oss", "tokenizer_config.json"), &src)
	dir := filepath.Join(t.TempDir(), "gptoss")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.WriteHarmony(dir, modeltest.Spec{Arch: "gptoss", Seed: 3, Vocab: 576, MaxPos: 4096}, src.ChatTemplate); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHarmonyToolChoice forces calls of a GPT-OSS model with random
// weights: tool_choice required or a named function makes the output the
// harmony call message, whatever the weights say, with arguments that
// follow the tool's schema. The model may reason first in one analysis
// message (pushed to it here by the biases: "a" starts "analysis", then
// writes the reasoning until <|end|> wins), after which the call follows.
func TestHarmonyToolChoice(t *testing.T) {
	e := newTestEngine(t)
	dir := harmonyModel(t)
	cases := []struct {
		name     string
		choice   ToolChoice
		bias     map[int32]float32
		analysis bool
	}{
		{"required", ToolChoice{Mode: "required"}, map[int32]float32{tokC: 20}, false},
		{"function", ToolChoice{Mode: "function", Name: "get_time"}, map[int32]float32{tokC: 20}, false},
		{"required after analysis", ToolChoice{Mode: "required"}, map[int32]float32{tokA: 20, modeltest.HarmonyEnd: 16}, true},
		{"function after analysis", ToolChoice{Mode: "function", Name: "get_weather"}, map[int32]float32{tokA: 20, modeltest.HarmonyEnd: 16}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := sampled(5, 300)
			o.Logprobs = true
			o.Sampling.LogitBias = c.bias
			var s collected
			res, err := e.Chat(context.Background(), ChatRequest{
				Model: dir, Messages: []Message{{Role: "user", Content: "What is the weather in Paris?"}},
				Tools: weatherTools, ToolChoice: c.choice, Options: o,
			}, s.add)
			if err != nil {
				t.Fatal(err)
			}
			s.same(t, res)
			var text strings.Builder
			for _, lp := range res.Logprobs {
				text.Write(lp.Bytes)
			}
			out := text.String()
			if res.FinishReason != "tool_calls" || len(res.ToolCalls) != 1 || res.Content != "" {
				t.Fatalf("finish %q, calls %+v, content %q; output %q", res.FinishReason, res.ToolCalls, res.Content, out)
			}
			checkCalls(t, weatherTools, res.ToolCalls)
			call := res.ToolCalls[0]
			if c.choice.Name != "" && call.Name != c.choice.Name {
				t.Fatalf("called %s; output %q", call.Name, out)
			}
			header := "<|channel|>commentary to=functions." + call.Name + " <|constrain|>json<|message|>"
			want := header + string(call.Arguments)
			if c.analysis {
				if res.Reasoning == "" {
					t.Errorf("no reasoning before the call; output %q", out)
				}
				want = "<|channel|>analysis<|message|>" + res.Reasoning + "<|end|><|start|>assistant" + want
			}
			if out != want {
				t.Fatalf("output %q, want %q", out, want)
			}
		})
	}
}

// TestHarmonyToolChoiceRefused: a template in harmony over a tokenizer
// without harmony's control tokens cannot have its calls forced; an unknown
// function name is refused as for the other formats.
func TestHarmonyToolChoiceRefused(t *testing.T) {
	e := newTestEngine(t)
	plain := markerModel(t, "gpt-oss") // the template, none of its tokens
	cases := []struct {
		name, model, param, says string
		choice                   ToolChoice
	}{
		{"no control tokens", plain, "tool_choice", "<|start|>", ToolChoice{Mode: "required"}},
		{"unknown function", harmonyModel(t), "tool_choice.function.name", "no tool named", ToolChoice{Mode: "function", Name: "get_tide"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Chat(context.Background(), ChatRequest{
				Model: c.model, Messages: []Message{{Role: "user", Content: "Hi"}},
				Tools: weatherTools, ToolChoice: c.choice, Options: sampled(1, 10),
			}, func(Delta) error { return nil })
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Param != c.param || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("%v, want an invalid %s saying %q", err, c.param, c.says)
			}
		})
	}
}

// TestHarmonyConstraints: with tool_choice auto a harmony model's calls are
// lazy triggers, one per tool and header form; response_format alone
// constrains the answer; none leaves it free.
func TestHarmonyConstraints(t *testing.T) {
	l := &loaded{}
	c, err := l.constraintFor(&ChatRequest{Tools: weatherTools}, chat.FormatHarmony)
	if err != nil || c == nil || len(c.lazy) != 2*len(weatherTools) || c.eager != nil || !c.single {
		t.Fatalf("auto: %+v, %v", c, err)
	}
	c, err = l.constraintFor(&ChatRequest{Tools: weatherTools, ResponseFormat: &ResponseFormat{Type: "json_object"}}, chat.FormatHarmony)
	if err != nil || c == nil || c.param != "response_format" {
		t.Fatalf("response_format: %+v, %v", c, err)
	}
	c, err = l.constraintFor(&ChatRequest{Tools: weatherTools, ToolChoice: ToolChoice{Mode: "none"}}, chat.FormatHarmony)
	if err != nil || c != nil {
		t.Fatalf("none: %+v, %v", c, err)
	}
}

// TestHarmonyAutoTrigger: with tool_choice auto, a call header the model
// writes itself, in the spec's form or the chat template's, puts the
// arguments under the tool's schema: the draws that prefer text the schema
// refuses get the arguments instead, and the call ends the output.
func TestHarmonyAutoTrigger(t *testing.T) {
	tools := []Tool{{Name: "ping", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}`)}}
	c0, err := harmonyAuto(&ChatRequest{Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	vocab := [][]byte{[]byte("<|channel|>"), []byte("<|constrain|>"), []byte("<|message|>"), []byte("<|start|>"), []byte("<|call|>"),
		[]byte("commentary"), []byte(" to=functions.ping"), []byte(" "), []byte("json"), []byte("hi"),
		[]byte(`{"ok":`), []byte(" true}"), []byte(" false}"), []byte("assistant")}
	special := []bool{true, true, true, true, true, false, false, false, false, false, false, false, false, false}
	mk, err := grammar.NewMasker(vocab, special, 4)
	if err != nil {
		t.Fatal(err)
	}
	const (
		channel, constrain, message, start = 0, 1, 2, 3
		commentary, to, space, jsonTok, hi = 5, 6, 7, 8, 9
		open, yes, no, assistant           = 10, 11, 12, 13
	)
	for _, h := range []struct {
		name   string
		header []int32
	}{
		{"spec form", []int32{channel, commentary, to, space, constrain, jsonTok, message}},
		{"template form", []int32{start, assistant, to, channel, commentary, space, jsonTok, message}},
	} {
		t.Run(h.name, func(t *testing.T) {
			c := &constraint{spec: c0, mk: mk, bytes: func(id int32) []byte { return vocab[id] }, mask: grammar.NewBitset(mk.Size())}
			// The model writes hi and the call header unconstrained; under a
			// grammar, the first allowed of hi, no, yes, open, space.
			got := driveConstraint(t, c, append([]int32{hi}, h.header...), []int32{hi, no, yes, open, space}, 20)
			want := append(append([]int32{hi}, h.header...), open, no)
			if !slices.Equal(got, want) || !c.complete() {
				t.Fatalf("tokens %v, want %v and the end", got, want)
			}
		})
	}
}
