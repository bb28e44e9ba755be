package openai

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
)

func messagesFrom(t *testing.T, body string, d Defaults) (*Messages, error) {
	t.Helper()
	var r MessagesRequest
	if err := Decode([]byte(body), &r); err != nil {
		return nil, err
	}
	return r.Engine(d)
}

func TestMessagesConversion(t *testing.T) {
	body := `{"model":"a/b","max_tokens":64,"system":[{"type":"text","text":"be"},{"type":"text","text":"brief","cache_control":{"type":"ephemeral"}}],
		"stop_sequences":["END"],"temperature":0,"top_k":5,"metadata":{"user_id":"u"},
		"tools":[{"name":"add","description":"adds","input_schema":{"type":"object"}}],"tool_choice":{"type":"any","disable_parallel_tool_use":true},
		"messages":[
			{"role":"user","content":"2+2?"},
			{"role":"assistant","content":[{"type":"thinking","thinking":"sum","signature":"s"},{"type":"text","text":"calling"},{"type":"tool_use","id":"toolu_1","name":"add","input":{"a":2}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"4"}]},{"type":"tool_result","tool_use_id":"toolu_2","content":"boom","is_error":true},{"type":"text","text":"thanks"}]}]}`
	m, err := messagesFrom(t, body, Defaults{SystemPrompt: "ignored: the request has one"})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Request
	o := r.Options
	if o.MaxTokens != 64 || o.Sampling.Temperature != 0 || o.Sampling.TopK != 5 || len(o.Stop) != 1 || o.Stop[0] != "END" {
		t.Errorf("options = %+v", o)
	}
	if r.ToolChoice.Mode != "required" || r.ParallelToolCalls || len(r.Tools) != 1 || string(r.Tools[0].Parameters) != `{"type":"object"}` {
		t.Errorf("tools %+v choice %+v parallel %v", r.Tools, r.ToolChoice, r.ParallelToolCalls)
	}
	want := []engine.Message{
		{Role: "system", Content: "be\nbrief"},
		{Role: "user", Content: "2+2?"},
		{Role: "assistant", Content: "calling", Reasoning: "sum", ToolCalls: []engine.ToolCall{{ID: "toolu_1", Name: "add", Arguments: json.RawMessage(`{"a":2}`)}}},
		{Role: "tool", ToolCallID: "toolu_1", Content: "4"},
		{Role: "tool", ToolCallID: "toolu_2", Content: "Error: boom"},
		{Role: "user", Content: "thanks"},
	}
	if len(r.Messages) != len(want) {
		t.Fatalf("messages = %+v", r.Messages)
	}
	for i, w := range want {
		g := r.Messages[i]
		if g.Role != w.Role || g.Content != w.Content || g.Reasoning != w.Reasoning || g.ToolCallID != w.ToolCallID || len(g.ToolCalls) != len(w.ToolCalls) {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
	m, err = messagesFrom(t, `{"model":"p","max_tokens":8,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":4}}`,
		Defaults{Model: "a/b", SystemPrompt: "profile"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Request.Model != "a/b" || m.Request.Messages[0].Content != "profile" || m.Request.TemplateVars["enable_thinking"] != true {
		t.Errorf("profile request = %+v", m.Request)
	}
}

func TestMessagesRefusals(t *testing.T) {
	msg := `"messages":[{"role":"user","content":"x"}]`
	tests := []struct{ name, body, param string }{
		{"max_tokens required", `{"model":"a/b",` + msg + `}`, "max_tokens"},
		{"max_tokens 0", `{"model":"a/b","max_tokens":0,` + msg + `}`, "max_tokens"},
		{"temperature above 1", `{"model":"a/b","max_tokens":5,"temperature":1.5,` + msg + `}`, "temperature"},
		{"image without media type", `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64"}}]}]}`, "messages[0].content[0].source.media_type"},
		{"image by URL", `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}`, "messages[0].content[0].source.type"},
		{"document", `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64"}}]}]}`, "messages[0].content[0].type"},
		{"system role", `{"model":"a/b","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`, "messages[0].role"},
		{"prefill ends in whitespace", `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"Sure, "}]}`, "messages[1].content"},
		{"prefill calls a tool", `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]}]}`, "messages[1].content"},
		{"server tool", `{"model":"a/b","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],` + msg + `}`, "tools[0].type"},
		{"tool without schema", `{"model":"a/b","max_tokens":5,"tools":[{"name":"f"}],` + msg + `}`, "tools[0].input_schema"},
		{"tool_choice type", `{"model":"a/b","max_tokens":5,"tool_choice":{"type":"maybe"},` + msg + `}`, "tool_choice.type"},
		{"thinking budget", `{"model":"a/b","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":5},` + msg + `}`, "thinking.budget_tokens"},
		{"mcp", `{"model":"a/b","max_tokens":5,"mcp_servers":[{}],` + msg + `}`, "mcp_servers"},
		{"unknown block field", `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x","colour":"red"}]}]}`, "messages[0].content[0].colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := messagesFrom(t, tt.body, Defaults{})
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Errorf("err = %v, want param %s", err, tt.param)
			}
		})
	}
}

func TestMessageFrom(t *testing.T) {
	meta := Meta{ID: "msg_1", Model: "m"}
	res := &engine.Result{Reasoning: "r", Content: "hi", FinishReason: "tool_calls", Usage: engine.Usage{PromptTokens: 3, CompletionTokens: 4},
		ToolCalls: []engine.ToolCall{{ID: "call_1", Name: "f", Arguments: json.RawMessage(`{"a":1}`)}, {ID: "call_2", Name: "g", Arguments: json.RawMessage(`oops`)}}}
	got := marshal(t, MessageFrom(meta, res))
	want := `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"r","signature":""},{"type":"text","text":"hi"},` +
		`{"type":"tool_use","id":"call_1","name":"f","input":{"a":1}},{"type":"tool_use","id":"call_2","name":"g","input":{"arguments":"oops"}}],` +
		`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`
	if got != want {
		t.Errorf("message\n got %s\nwant %s", got, want)
	}
	for _, tt := range []struct {
		res    engine.Result
		reason string
		seq    string
	}{
		{engine.Result{FinishReason: "stop"}, "end_turn", ""},
		{engine.Result{FinishReason: "stop", StopSequence: "\n\nHuman:"}, "stop_sequence", "\n\nHuman:"},
		{engine.Result{FinishReason: "length"}, "max_tokens", ""},
		{engine.Result{FinishReason: "tool_calls"}, "tool_use", ""},
	} {
		reason, seq := StopReason(&tt.res)
		if reason != tt.reason || (seq == nil) != (tt.seq == "") || (seq != nil && *seq != tt.seq) {
			t.Errorf("StopReason(%+v) = %s, %v", tt.res, reason, seq)
		}
	}
}

func TestMessageStream(t *testing.T) {
	ms := NewMessageStream(Meta{ID: "msg_1", Model: "m"})
	var evs []Event
	evs = append(evs, ms.Start()...)
	for _, d := range []engine.Delta{
		{Reasoning: "hm"}, {Reasoning: "m"}, {Content: "a"}, {Content: "b"},
		{ToolCalls: []engine.ToolCallDelta{{Index: 0, ID: "call_1", Name: "f"}}},
		{ToolCalls: []engine.ToolCallDelta{{Index: 0, Arguments: `{"x":`}}},
		{ToolCalls: []engine.ToolCallDelta{{Index: 0, Arguments: `1}`}}},
	} {
		evs = append(evs, ms.Delta(d)...)
	}
	evs = append(evs, ms.Finish(&engine.Result{FinishReason: "tool_calls", Usage: engine.Usage{PromptTokens: 2, CompletionTokens: 9}})...)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Name+" "+marshal(t, ev.Data))
	}
	want := []string{
		`message_start {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}`,
		`ping {"type":"ping"}`,
		`content_block_start {"content_block":{"type":"thinking","thinking":"","signature":""},"index":0,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"thinking":"hm","type":"thinking_delta"},"index":0,"type":"content_block_delta"}`,
		`content_block_delta {"delta":{"thinking":"m","type":"thinking_delta"},"index":0,"type":"content_block_delta"}`,
		`content_block_stop {"index":0,"type":"content_block_stop"}`,
		`content_block_start {"content_block":{"type":"text","text":""},"index":1,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"text":"a","type":"text_delta"},"index":1,"type":"content_block_delta"}`,
		`content_block_delta {"delta":{"text":"b","type":"text_delta"},"index":1,"type":"content_block_delta"}`,
		`content_block_stop {"index":1,"type":"content_block_stop"}`,
		`content_block_start {"content_block":{"type":"tool_use","id":"call_1","name":"f","input":{}},"index":2,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"partial_json":"{\"x\":","type":"input_json_delta"},"index":2,"type":"content_block_delta"}`,
		`content_block_delta {"delta":{"partial_json":"1}","type":"input_json_delta"},"index":2,"type":"content_block_delta"}`,
		`content_block_stop {"index":2,"type":"content_block_stop"}`,
		`message_delta {"delta":{"stop_reason":"tool_use","stop_sequence":null},"type":"message_delta","usage":{"cache_read_input_tokens":0,"input_tokens":2,"output_tokens":9}}`,
		`message_stop {"type":"message_stop"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events\n got %s\nwant %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ev := ErrorEvent("overloaded_error", "busy"); ev.Name != "error" || marshal(t, ev.Data) != `{"error":{"message":"busy","type":"overloaded_error"},"type":"error"}` {
		t.Errorf("error event %s %s", ev.Name, marshal(t, ev.Data))
	}
}

func TestAnthropicUsageSplitsTheCache(t *testing.T) {
	got := MessageFrom(Meta{}, &engine.Result{Usage: engine.Usage{PromptTokens: 10, CachedTokens: 4, CompletionTokens: 3}}).Usage
	if got != (AnthropicUsage{InputTokens: 6, CacheReadInputTokens: 4, OutputTokens: 3}) {
		t.Errorf("usage %+v", got)
	}
}

// TestMessagesPrefill: a final assistant message is the start of the answer.
func TestMessagesPrefill(t *testing.T) {
	m, err := messagesFrom(t, `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"{\"a\":"}]}`, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	last := m.Request.Messages[len(m.Request.Messages)-1]
	if !m.Request.ContinueFinal || last.Role != "assistant" || last.Content != `{"a":` {
		t.Fatalf("request %+v", m.Request)
	}
	if m, err = messagesFrom(t, `{"model":"a/b","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, Defaults{}); err != nil || m.Request.ContinueFinal {
		t.Fatalf("a user turn last: %+v, %v", m, err)
	}
}
