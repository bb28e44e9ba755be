package openai

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

func chatFrom(t *testing.T, body string, d Defaults) (*Chat, error) {
	t.Helper()
	var r ChatRequest
	if err := Decode([]byte(body), &r); err != nil {
		return nil, err
	}
	return r.Engine(d)
}

const user = `"messages":[{"role":"user","content":"hi"}]`

func TestChatSampling(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name     string
		body     string
		d        Defaults
		temp     float64
		topP     float64
		topK     int
		maxTok   int
		seed     *int64
		logprobs bool
		top      int
	}{
		{name: "defaults", body: `{"model":"a/b",` + user + `}`, temp: 1},
		{name: "temperature 0 is greedy, not the default", body: `{"model":"a/b","temperature":0,` + user + `}`, temp: 0},
		{name: "top_p 0 keeps the top token", body: `{"model":"a/b","top_p":0,` + user + `}`, temp: 1, topP: 1, topK: 1},
		{name: "top_k extension", body: `{"model":"a/b","top_k":40,"top_p":0.9,` + user + `}`, temp: 1, topP: 0.9, topK: 40},
		{name: "max_completion_tokens", body: `{"model":"a/b","max_completion_tokens":7,` + user + `}`, temp: 1, maxTok: 7},
		{name: "max_tokens", body: `{"model":"a/b","max_tokens":9,` + user + `}`, temp: 1, maxTok: 9},
		{name: "both agree", body: `{"model":"a/b","max_tokens":9,"max_completion_tokens":9,` + user + `}`, temp: 1, maxTok: 9},
		{name: "seed", body: `{"model":"a/b","seed":42,` + user + `}`, temp: 1, seed: ptr(int64(42))},
		{name: "logprobs", body: `{"model":"a/b","logprobs":true,"top_logprobs":5,` + user + `}`, temp: 1, logprobs: true, top: 5},
		{name: "profile defaults", body: `{"model":"p",` + user + `}`, d: Defaults{Model: "a/b", Temperature: f(0.2), TopP: f(0.5), MaxTokens: ptr(30)}, temp: 0.2, topP: 0.5, maxTok: 30},
		{name: "request beats profile", body: `{"model":"p","temperature":1.5,"max_tokens":3,` + user + `}`, d: Defaults{Model: "a/b", Temperature: f(0.2), MaxTokens: ptr(30)}, temp: 1.5, maxTok: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := chatFrom(t, tt.body, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			o := c.Request.Options
			s := o.Sampling
			if s.Temperature != tt.temp || s.TopP != tt.topP || s.TopK != tt.topK || o.MaxTokens != tt.maxTok {
				t.Errorf("temperature %g top_p %g top_k %d max_tokens %d; want %g %g %d %d",
					s.Temperature, s.TopP, s.TopK, o.MaxTokens, tt.temp, tt.topP, tt.topK, tt.maxTok)
			}
			if (s.Seed == nil) != (tt.seed == nil) || s.Seed != nil && *s.Seed != *tt.seed {
				t.Errorf("seed %v, want %v", s.Seed, tt.seed)
			}
			if o.Logprobs != tt.logprobs || s.TopLogprobs != tt.top || c.Logprobs != tt.logprobs {
				t.Errorf("logprobs %v/%d, want %v/%d", o.Logprobs, s.TopLogprobs, tt.logprobs, tt.top)
			}
			if tt.d.Model != "" && c.Request.Model != tt.d.Model {
				t.Errorf("model %q, want the profile's %q", c.Request.Model, tt.d.Model)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestChatRefusals(t *testing.T) {
	tests := []struct {
		name, body, param, code string
	}{
		{"no model", `{` + user + `}`, "model", ""},
		{"no messages", `{"model":"a/b","messages":[]}`, "messages", ""},
		{"temperature high", `{"model":"a/b","temperature":2.5,` + user + `}`, "temperature", ""},
		{"top_p high", `{"model":"a/b","top_p":1.5,` + user + `}`, "top_p", ""},
		{"penalty", `{"model":"a/b","presence_penalty":-3,` + user + `}`, "presence_penalty", ""},
		{"repetition_penalty 0", `{"model":"a/b","repetition_penalty":0,` + user + `}`, "repetition_penalty", ""},
		{"max_tokens 0", `{"model":"a/b","max_tokens":0,` + user + `}`, "max_tokens", ""},
		{"max tokens disagree", `{"model":"a/b","max_tokens":1,"max_completion_tokens":2,` + user + `}`, "max_tokens", ""},
		{"n 0", `{"model":"a/b","n":0,` + user + `}`, "n", ""},
		{"n 9", `{"model":"a/b","n":9,` + user + `}`, "n", ""},
		{"top_logprobs without logprobs", `{"model":"a/b","top_logprobs":2,` + user + `}`, "top_logprobs", ""},
		{"top_logprobs 21", `{"model":"a/b","logprobs":true,"top_logprobs":21,` + user + `}`, "top_logprobs", ""},
		{"stop too many", `{"model":"a/b","stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"],` + user + `}`, "stop", ""},
		{"stop empty", `{"model":"a/b","stop":["x",""],` + user + `}`, "stop[1]", ""},
		{"stop number", `{"model":"a/b","stop":5,` + user + `}`, "stop", ""},
		{"logit_bias key", `{"model":"a/b","logit_bias":{"x":1},` + user + `}`, "logit_bias", ""},
		{"logit_bias value", `{"model":"a/b","logit_bias":{"1":101},` + user + `}`, "logit_bias", ""},
		{"stream_options without stream", `{"model":"a/b","stream_options":{"include_usage":true},` + user + `}`, "stream_options", ""},
		{"image not a data URL", `{"model":"a/b","messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"u"}}]}]}`, "messages[0].content[1].image_url.url", ""},
		{"image URL to fetch", `{"model":"a/b","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/y.png"}}]}]}`, "messages[0].content[0].image_url.url", "unsupported_value"},
		{"image from the assistant", `{"model":"a/b","messages":[{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`, "messages[0].content[0].type", ""},
		{"audio part", `{"model":"a/b","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, "messages[0].content[0].type", "unsupported_value"},
		{"unknown role", `{"model":"a/b","messages":[{"role":"robot","content":"x"}]}`, "messages[0].role", ""},
		{"tool message without id", `{"model":"a/b","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id", ""},
		{"user content missing", `{"model":"a/b","messages":[{"role":"user"}]}`, "messages[0].content", ""},
		{"bad arguments", `{"model":"a/b","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[0].tool_calls[0].function.arguments", ""},
		{"audio", `{"model":"a/b","audio":{"voice":"x"},` + user + `}`, "audio", "unsupported_parameter"},
		{"functions", `{"model":"a/b","functions":[],` + user + `}`, "functions", "unsupported_parameter"},
		{"modalities audio", `{"model":"a/b","modalities":["text","audio"],` + user + `}`, "modalities[1]", "unsupported_value"},
		{"tool type", `{"model":"a/b","tools":[{"type":"custom","custom":{}}],` + user + `}`, "tools[0].type", "unsupported_value"},
		{"tool name", `{"model":"a/b","tools":[{"type":"function","function":{"name":"a b"}}],` + user + `}`, "tools[0].function.name", ""},
		{"tool_choice string", `{"model":"a/b","tool_choice":"sometimes",` + user + `}`, "tool_choice", ""},
		{"tool_choice without name", `{"model":"a/b","tool_choice":{"type":"function","function":{}},` + user + `}`, "tool_choice.function.name", ""},
		{"response_format type", `{"model":"a/b","response_format":{"type":"xml"},` + user + `}`, "response_format.type", ""},
		{"json_schema without name", `{"model":"a/b","response_format":{"type":"json_schema","json_schema":{"schema":{}}},` + user + `}`, "response_format.json_schema.name", ""},
		{"reasoning_effort", `{"model":"a/b","reasoning_effort":"max",` + user + `}`, "reasoning_effort", ""},
		{"keep_alive", `{"model":"a/b","keep_alive":"soon",` + user + `}`, "keep_alive", ""},
		{"keep_alive and ttl", `{"model":"a/b","keep_alive":1,"ttl":1,` + user + `}`, "ttl", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chatFrom(t, tt.body, Defaults{})
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParamError for %s", err, tt.param)
			}
			if pe.Param != tt.param || (tt.code != "" && pe.Code != tt.code) {
				t.Errorf("param %q code %q, want %q %q (%v)", pe.Param, pe.Code, tt.param, tt.code, pe)
			}
		})
	}
}

func TestChatMessages(t *testing.T) {
	body := `{"model":"a/b","messages":[
		{"role":"developer","content":"be brief"},
		{"role":"user","content":[{"type":"text","text":"2+"},{"type":"text","text":"2?"}],"name":"ann"},
		{"role":"assistant","content":null,"reasoning_content":"think","tool_calls":[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":2}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"4"}]}`
	c, err := chatFrom(t, body, Defaults{SystemPrompt: "profile prompt"})
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Message{
		{Role: "developer", Content: "be brief"},
		{Role: "user", Content: "2+2?", Name: "ann"},
		{Role: "assistant", Reasoning: "think", ToolCalls: []engine.ToolCall{{ID: "call_1", Name: "add", Arguments: json.RawMessage(`{"a":2}`)}}},
		{Role: "tool", ToolCallID: "call_1", Content: "4"},
	}
	got := c.Request.Messages
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d (the profile prompt must not be added): %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Role != w.Role || g.Content != w.Content || g.Name != w.Name || g.ToolCallID != w.ToolCallID || g.Reasoning != w.Reasoning || len(g.ToolCalls) != len(w.ToolCalls) {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
		for j := range w.ToolCalls {
			if g.ToolCalls[j].ID != w.ToolCalls[j].ID || string(g.ToolCalls[j].Arguments) != string(w.ToolCalls[j].Arguments) {
				t.Errorf("message %d call %d = %+v", i, j, g.ToolCalls[j])
			}
		}
	}

	c, err = chatFrom(t, `{"model":"p",`+user+`}`, Defaults{SystemPrompt: "profile prompt"})
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Request.Messages; len(m) != 2 || m[0].Role != "system" || m[0].Content != "profile prompt" {
		t.Errorf("profile system prompt not prepended: %+v", m)
	}
}

func TestChatTools(t *testing.T) {
	body := `{"model":"a/b",` + user + `,"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}],
		"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false,
		"response_format":{"type":"json_schema","json_schema":{"name":"out","schema":{"type":"object"},"strict":true}},
		"reasoning_effort":"none","chat_template_kwargs":{"custom":1}}`
	c, err := chatFrom(t, body, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Request
	if len(r.Tools) != 1 || r.Tools[0].Name != "get_weather" || !r.Tools[0].Strict || string(r.Tools[0].Parameters) != `{"type":"object","properties":{"city":{"type":"string"}}}` {
		t.Errorf("tools = %+v", r.Tools)
	}
	if r.ToolChoice != (engine.ToolChoice{Mode: "function", Name: "get_weather"}) || r.ParallelToolCalls {
		t.Errorf("tool_choice %+v parallel %v", r.ToolChoice, r.ParallelToolCalls)
	}
	if rf := r.ResponseFormat; rf == nil || rf.Type != "json_schema" || !rf.Strict || string(rf.Schema) != `{"type":"object"}` {
		t.Errorf("response_format = %+v", rf)
	}
	if r.TemplateVars["enable_thinking"] != false || r.TemplateVars["custom"] != float64(1) {
		t.Errorf("template vars = %v", r.TemplateVars)
	}
	for _, mode := range []string{"none", "auto", "required"} {
		c, err := chatFrom(t, `{"model":"a/b",`+user+`,"tool_choice":"`+mode+`"}`, Defaults{})
		if err != nil || c.Request.ToolChoice.Mode != mode || !c.Request.ParallelToolCalls {
			t.Errorf("tool_choice %q: %+v, %v", mode, c, err)
		}
	}
}

func TestChatStreamAndChoices(t *testing.T) {
	c, err := chatFrom(t, `{"model":"a/b","stream":true,"stream_options":{"include_usage":true},"n":3,"seed":10,`+user+`}`, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Stream || !c.IncludeUsage || c.N != 3 {
		t.Fatalf("chat = %+v", c)
	}
	for i, want := range []int64{10, 11, 12} {
		if s := c.Choice(i).Options.Sampling.Seed; s == nil || *s != want {
			t.Errorf("choice %d seed %v, want %d", i, s, want)
		}
	}
	if *c.Request.Options.Sampling.Seed != 10 {
		t.Error("Choice changed the request's own seed")
	}
}

func TestKeepAlive(t *testing.T) {
	tests := []struct {
		raw  string
		ttl  *int
		d    Defaults
		want *time.Duration
	}{
		{raw: `"5m"`, want: ptr(5 * time.Minute)},
		{raw: `300`, want: ptr(300 * time.Second)},
		{raw: `"300"`, want: ptr(300 * time.Second)},
		{raw: `0`, want: ptr(time.Duration(0))},
		{raw: `-1`, want: ptr(time.Duration(-1))},
		{raw: `"-5m"`, want: ptr(time.Duration(-1))},
		{ttl: ptr(60), want: ptr(time.Minute)},
		{d: Defaults{KeepAlive: ptr(time.Hour)}, want: ptr(time.Hour)},
		{},
	}
	for _, tt := range tests {
		got, err := keepAlive(json.RawMessage(tt.raw), tt.ttl, tt.d)
		if err != nil {
			t.Errorf("keepAlive(%s): %v", tt.raw, err)
			continue
		}
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("keepAlive(%s, %v) = %v, want %v", tt.raw, tt.ttl, got, tt.want)
		}
	}
}
