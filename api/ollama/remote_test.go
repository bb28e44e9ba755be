package ollama

import (
	"encoding/json"
	"testing"
)

func TestOpenAIChatBody(t *testing.T) {
	req := ChatRequest{Model: "m", Messages: []Message{
		{Role: "user", Content: "weather in Paris and Rome?"},
		{Role: "assistant", ToolCalls: []ToolCall{
			{Function: ToolCallFunction{Name: "get_weather", Arguments: json.RawMessage(`{"city":"Paris"}`)}},
			{Function: ToolCallFunction{Name: "get_weather", Arguments: json.RawMessage(`{"city":"Rome"}`)}}}},
		{Role: "tool", Content: "18C", ToolName: "get_weather"},
		{Role: "tool", Content: "24C", ToolName: "get_weather"},
	}, Options: map[string]json.RawMessage{"num_predict": json.RawMessage("5"), "num_ctx": json.RawMessage("4096")},
		Format: json.RawMessage(`"json"`)}
	b, err := req.OpenAIChat("backend/model")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Model    string                `json:"model"`
		Stream   bool                  `json:"stream"`
		Max      int                   `json:"max_tokens"`
		NumCtx   *int                  `json:"num_ctx"`
		Format   struct{ Type string } `json:"response_format"`
		Messages []struct {
			Role       string `json:"role"`
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID       string `json:"id"`
				Function struct{ Name, Arguments string }
			} `json:"tool_calls"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	m := got.Messages
	if got.Model != "backend/model" || !got.Stream || got.Max != 5 || got.NumCtx != nil || got.Format.Type != "json_object" || len(m) != 4 ||
		m[1].ToolCalls[1].ID != "call_1" || m[1].ToolCalls[1].Function.Arguments != `{"city":"Rome"}` ||
		m[2].ToolCallID != "call_0" || m[3].ToolCallID != "call_1" {
		t.Fatalf("body %s", b)
	}
	if _, err := (&ChatRequest{Messages: []Message{{Role: "user", Images: []string{"aGk="}}}}).OpenAIChat("m"); err == nil {
		t.Error("images were accepted")
	}
}

func TestRemoteAnswerStream(t *testing.T) {
	var a RemoteAnswer
	for _, c := range []string{
		`{"choices":[{"delta":{"role":"assistant","content":"Let me"}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"get_weather","arguments":""}}]}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}`,
		`{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}`,
	} {
		var chunk OpenAIChunk
		if err := json.Unmarshal([]byte(c), &chunk); err != nil {
			t.Fatal(err)
		}
		a.Add(chunk)
	}
	calls := a.ToolCalls()
	if a.Content != "Let me" || len(calls) != 1 || calls[0].Function.Name != "get_weather" || string(calls[0].Function.Arguments) != `{"city":"Paris"}` ||
		a.DoneReason() != "stop" || a.PromptTokens != 12 || a.CompletionTokens != 7 {
		t.Fatalf("answer %+v, calls %+v", a, calls)
	}
}
