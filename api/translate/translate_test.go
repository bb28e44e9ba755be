package translate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func jsonEq(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// A conversation with every kind of turn: system, an image, a tool call and its
// answer, then a new question, with tools and a forced choice.
const openAIConversation = `{"model":"gpt-4o","max_completion_tokens":100,"temperature":1.5,"stop":"END","user":"u1",
 "parallel_tool_calls":false,"tool_choice":"required","stream":true,"stream_options":{"include_usage":true},
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
 "messages":[{"role":"system","content":"Be terse."},
  {"role":"user","content":[{"type":"text","text":"Where is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
  {"role":"tool","tool_call_id":"call_1","content":"21 C"},
  {"role":"user","content":"Thanks"}]}`

const anthropicConversation = `{"model":"claude-x","max_tokens":100,"temperature":1,"stop_sequences":["END"],"stream":true,
 "metadata":{"user_id":"u1"},"system":"Be terse.",
 "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
 "tool_choice":{"type":"any","disable_parallel_tool_use":true},
 "messages":[{"role":"user","content":[{"type":"text","text":"Where is this?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
  {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"21 C"},{"type":"text","text":"Thanks"}]}]}`

func TestChatToMessagesRequest(t *testing.T) {
	out, opts, err := ChatToMessagesRequest([]byte(openAIConversation), "claude-x")
	if err != nil {
		t.Fatal(err)
	}
	if !opts.Stream || !opts.IncludeUsage {
		t.Errorf("options %+v", opts)
	}
	jsonEq(t, "request", out, anthropicConversation)
}

func TestMessagesToChatRequest(t *testing.T) {
	out, opts, err := MessagesToChatRequest([]byte(anthropicConversation), "gpt-4o")
	if err != nil {
		t.Fatal(err)
	}
	if !opts.Stream {
		t.Errorf("options %+v", opts)
	}
	jsonEq(t, "request", out, `{"model":"gpt-4o","max_tokens":100,"temperature":1,"stop":["END"],"user":"u1",
	 "parallel_tool_calls":false,"tool_choice":"required","stream":true,"stream_options":{"include_usage":true},
	 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
	 "messages":[{"role":"system","content":"Be terse."},
	  {"role":"user","content":[{"type":"text","text":"Where is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
	  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
	  {"role":"tool","tool_call_id":"call_1","content":"21 C"},
	  {"role":"user","content":"Thanks"}]}`)
}

func TestRequestErrors(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"tool arguments not JSON", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{oops"}}]}]}`},
		{"unknown tool_choice", `{"messages":[],"tool_choice":"sometimes"}`},
		{"unknown role", `{"messages":[{"role":"wizard","content":"hi"}]}`},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio"}]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := ChatToMessagesRequest([]byte(tc.body), "m"); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, _, err := MessagesToChatRequest([]byte(`{"messages":[{"role":"user","content":[{"type":"document"}]}]}`), "m"); err == nil {
		t.Error("a document block was translated")
	}
}

func TestResponses(t *testing.T) {
	meta := Meta{Model: "asked", Created: 42}
	msg := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","stop_reason":"tool_use",
	 "content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],
	 "usage":{"input_tokens":10,"output_tokens":7}}`
	out, u, err := MessageToChat([]byte(msg), meta)
	if err != nil {
		t.Fatal(err)
	}
	if u != (Usage{10, 7}) {
		t.Errorf("usage %+v", u)
	}
	jsonEq(t, "chat", out, `{"id":"chatcmpl-msg_1","object":"chat.completion","created":42,"model":"asked",
	 "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"Let me check.","reasoning_content":"hmm",
	  "tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}],
	 "usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}}`)

	back, u, err := ChatToMessage(out, meta)
	if err != nil {
		t.Fatal(err)
	}
	if u != (Usage{10, 7}) {
		t.Errorf("usage back %+v", u)
	}
	jsonEq(t, "message", back, `{"id":"msg_msg_1","type":"message","role":"assistant","model":"asked","stop_reason":"tool_use","stop_sequence":null,
	 "content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],
	 "usage":{"input_tokens":10,"output_tokens":7}}`)
}

func sse(lines ...string) []Event {
	var out []Event
	for _, l := range lines {
		name, data, _ := strings.Cut(l, " ")
		if name == "-" {
			name = ""
		}
		out = append(out, Event{Name: name, Data: []byte(data)})
	}
	return out
}

func run(t *testing.T, s Stream, in []Event) []Event {
	t.Helper()
	var out []Event
	for _, ev := range in {
		evs, err := s.Event(ev)
		if err != nil {
			t.Fatalf("event %s %s: %v", ev.Name, ev.Data, err)
		}
		out = append(out, evs...)
	}
	end, err := s.End()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, end...)
}

// An Anthropic stream as api.anthropic.com sends it: text, then a tool call whose
// input comes in pieces.
var anthropicStream = sse(
	`message_start {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"usage":{"input_tokens":12,"output_tokens":1}}}`,
	`ping {"type":"ping"}`,
	`content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
	`content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking"}}`,
	`content_block_stop {"type":"content_block_stop","index":0}`,
	`content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}`,
	`content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}`,
	`content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`,
	`content_block_stop {"type":"content_block_stop","index":1}`,
	`message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}`,
	`message_stop {"type":"message_stop"}`,
)

func TestMessagesToChatStream(t *testing.T) {
	s := NewMessagesToChat(Meta{Model: "asked", Created: 42}, true)
	out := run(t, s, anthropicStream)
	var text, args, finish string
	var usage *oaUsage
	for i, ev := range out[:len(out)-1] {
		var c oaChunk
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("chunk %d %s: %v", i, ev.Data, err)
		}
		if c.ID != "chatcmpl-msg_1" || ev.Name != "" {
			t.Errorf("chunk %d: %s", i, ev.Data)
		}
		if c.Usage != nil {
			usage = c.Usage
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text += *ch.Delta.Content
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.ID != "" && (tc.ID != "toolu_1" || tc.Function.Name != "get_weather" || *tc.Index != 0) {
					t.Errorf("tool call start %s", ev.Data)
				}
				args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	if string(out[len(out)-1].Data) != "[DONE]" || text != "Checking" || args != `{"city":"Paris"}` || finish != "tool_calls" ||
		usage == nil || *usage != (oaUsage{12, 9, 21}) || s.Usage() != (Usage{12, 9}) {
		t.Errorf("text %q args %q finish %q usage %+v", text, args, finish, usage)
	}
	if _, err := NewMessagesToChat(Meta{}, false).End(); err == nil {
		t.Error("a stream without message_stop ended cleanly")
	}
}

// An OpenAI stream as vLLM sends it: role, text, two tool calls in pieces, the
// finish, then the usage chunk and [DONE].
var openAIStream = sse(
	`- {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	`- {"id":"c1","choices":[{"index":0,"delta":{"content":"Checking"},"finish_reason":null}]}`,
	`- {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
	`- {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}`,
	`- {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"zone\""}}]},"finish_reason":null}]}`,
	`- {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":\"UTC\"}"}}]},"finish_reason":null}]}`,
	`- {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`- {"id":"c1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}`,
	`- [DONE]`,
)

func TestChatToMessagesStream(t *testing.T) {
	s := NewChatToMessages(Meta{Model: "asked"})
	out := run(t, s, openAIStream)
	var names []string
	inputs := map[int]string{}
	starts := map[int]anBlock{}
	var text, stop string
	var usage anUsage
	for _, ev := range out {
		names = append(names, ev.Name)
		var v struct {
			Type         string  `json:"type"`
			Index        int     `json:"index"`
			ContentBlock anBlock `json:"content_block"`
			Delta        struct {
				Text        string `json:"text"`
				PartialJSON string `json:"partial_json"`
				StopReason  string `json:"stop_reason"`
			} `json:"delta"`
			Usage anUsage `json:"usage"`
		}
		if err := json.Unmarshal(ev.Data, &v); err != nil || v.Type != ev.Name {
			t.Fatalf("event %s %s: %v", ev.Name, ev.Data, err)
		}
		switch ev.Name {
		case "content_block_start":
			starts[v.Index] = v.ContentBlock
		case "content_block_delta":
			text += v.Delta.Text
			inputs[v.Index] += v.Delta.PartialJSON
		case "message_delta":
			stop, usage = v.Delta.StopReason, v.Usage
		}
	}
	want := "message_start content_block_start content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if text != "Checking" || stop != "tool_use" || usage != (anUsage{12, 9}) ||
		starts[1].ID != "call_a" || starts[1].Name != "get_weather" || inputs[1] != `{"city":"Paris"}` ||
		starts[2].ID != "call_b" || starts[2].Name != "get_time" || inputs[2] != `{"zone":"UTC"}` {
		t.Errorf("text %q stop %q usage %+v starts %+v inputs %+v", text, stop, usage, starts, inputs)
	}
	if _, err := NewChatToMessages(Meta{}).End(); err == nil {
		t.Error("a stream cut before its finish ended cleanly")
	}
}

func TestUsageOf(t *testing.T) {
	for _, tc := range []struct {
		data string
		want Usage
		ok   bool
	}{
		{`{"usage":{"prompt_tokens":3,"completion_tokens":4}}`, Usage{3, 4}, true},
		{`{"usage":{"input_tokens":3,"output_tokens":4}}`, Usage{3, 4}, true},
		{`{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}`, Usage{5, 1}, true},
		{`{"choices":[]}`, Usage{}, false},
		{`[DONE]`, Usage{}, false},
	} {
		got, ok := UsageOf([]byte(tc.data))
		if got != tc.want || ok != tc.ok {
			t.Errorf("UsageOf(%s) = %+v, %v", tc.data, got, ok)
		}
	}
}

func FuzzRequests(f *testing.F) {
	f.Add([]byte(openAIConversation))
	f.Add([]byte(anthropicConversation))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out, _, err := ChatToMessagesRequest(body, "m"); err == nil && !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		if out, _, err := MessagesToChatRequest(body, "m"); err == nil && !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
	})
}
