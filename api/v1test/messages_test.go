package v1test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type anthropicMessage struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Role       string `json:"role"`
	Model      string `json:"model"`
	StopReason string `json:"stop_reason"`
	Content    []struct {
		Type  string          `json:"type"`
		Text  string          `json:"text"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	} `json:"content"`
	Usage anthropicUsage `json:"usage"`
}

type anthropicUsage struct {
	InputTokens          int `json:"input_tokens"`
	OutputTokens         int `json:"output_tokens"`
	CacheReadInputTokens int `json:"cache_read_input_tokens"`
}

// prompt is the whole prompt: computed plus read from the cache.
func (u anthropicUsage) prompt() int { return u.InputTokens + u.CacheReadInputTokens }

type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func messagesBody(extra map[string]any) map[string]any {
	b := map[string]any{"model": tinyID, "max_tokens": 6, "temperature": 0, "system": "You are terse.",
		"messages": []map[string]any{{"role": "user", "content": "Hello there"}}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func TestMessages(t *testing.T) {
	e := start(t, envOptions{})
	var m anthropicMessage
	e.call(t, "/v1/messages", messagesBody(nil), http.StatusOK, &m)
	if !strings.HasPrefix(m.ID, "msg_") || m.Type != "message" || m.Role != "assistant" || m.Model != tinyID ||
		m.Usage.prompt() == 0 || m.Usage.OutputTokens > 6 || len(m.Content) != 1 || m.Content[0].Type != "text" {
		t.Fatalf("message %+v", m)
	}
	if (m.StopReason == "max_tokens") != (m.Usage.OutputTokens == 6) || m.StopReason != "max_tokens" && m.StopReason != "end_turn" {
		t.Errorf("stop_reason %s with %d output tokens", m.StopReason, m.Usage.OutputTokens)
	}

	evs := e.stream(t, "/v1/messages", messagesBody(map[string]any{"stream": true}))
	var names []string
	var text string
	for _, ev := range evs {
		names = append(names, ev.Name)
		var data struct {
			Type  string `json:"type"`
			Delta struct {
				Type       string `json:"type"`
				Text       string `json:"text"`
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
			Usage anthropicUsage `json:"usage"`
		}
		ev.decode(t, &data)
		if data.Type != ev.Name {
			t.Errorf("event %s has type %s", ev.Name, data.Type)
		}
		switch ev.Name {
		case "content_block_delta":
			text += data.Delta.Text
		case "message_delta":
			if data.Delta.StopReason != m.StopReason || data.Usage.OutputTokens != m.Usage.OutputTokens || data.Usage.prompt() != m.Usage.prompt() {
				t.Errorf("message_delta %s", ev.Data)
			}
		}
	}
	want := "message_start ping content_block_start" + strings.Repeat(" content_block_delta", len(names)-6) + " content_block_stop message_delta message_stop"
	if got := strings.Join(names, " "); got != want || text != m.Content[0].Text {
		t.Errorf("events %s\nwant %s\ntext %q, want %q", got, want, text, m.Content[0].Text)
	}
	if ev := e.auditOf(t, "v1.messages"); ev.Model != tinyID || ev.CompletionTokens != m.Usage.OutputTokens || ev.Status != "success" {
		t.Errorf("audit %+v", ev)
	}
}

func TestMessagesToolUse(t *testing.T) {
	e := start(t, envOptions{})
	tools := []map[string]any{{"name": "get_weather", "description": "weather of a city", "input_schema": map[string]any{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string", "enum": []string{"Paris", "Rome"}}},
		"required": []string{"city"}, "additionalProperties": false}}}
	body := messagesBody(map[string]any{"tools": tools, "max_tokens": 150,
		"tool_choice": map[string]any{"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true}})
	var m anthropicMessage
	e.call(t, "/v1/messages", body, http.StatusOK, &m)
	last := m.Content[len(m.Content)-1]
	if m.StopReason != "tool_use" || last.Type != "tool_use" || last.Name != "get_weather" || !strings.Contains(string(last.Input), "city") {
		t.Fatalf("message %+v", m)
	}
	// The answer goes back as a tool_result, which the model reads as a tool message.
	body["messages"] = []map[string]any{
		{"role": "user", "content": "Weather in Paris?"},
		{"role": "assistant", "content": []map[string]any{{"type": "tool_use", "id": last.ID, "name": "get_weather", "input": last.Input}}},
		{"role": "user", "content": []map[string]any{{"type": "tool_result", "tool_use_id": last.ID, "content": "sunny"}}},
	}
	delete(body, "tool_choice")
	body["max_tokens"] = 3
	e.call(t, "/v1/messages", body, http.StatusOK, &m)

	body["stream"] = true
	body["tool_choice"] = map[string]any{"type": "any", "disable_parallel_tool_use": true}
	body["max_tokens"] = 150
	var partial string
	var started bool
	for _, ev := range e.stream(t, "/v1/messages", body) {
		var data struct {
			ContentBlock struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"content_block"`
			Delta struct {
				Type        string `json:"type"`
				PartialJSON string `json:"partial_json"`
				StopReason  string `json:"stop_reason"`
			} `json:"delta"`
		}
		ev.decode(t, &data)
		switch {
		case ev.Name == "content_block_start" && data.ContentBlock.Type == "tool_use":
			started = data.ContentBlock.Name == "get_weather"
		case data.Delta.Type == "input_json_delta":
			partial += data.Delta.PartialJSON
		case ev.Name == "message_delta" && data.Delta.StopReason != "tool_use":
			t.Errorf("stop_reason %s", data.Delta.StopReason)
		}
	}
	var input map[string]string
	if err := json.Unmarshal([]byte(partial), &input); !started || err != nil || input["city"] == "" {
		t.Errorf("streamed tool_use input %q: %v", partial, err)
	}
}

func TestMessagesErrors(t *testing.T) {
	e := start(t, envOptions{})
	tests := []struct {
		name   string
		body   any
		status int
		typ    string
	}{
		{"unknown model", messagesBody(map[string]any{"model": "nobody/nothing"}), 404, "not_found_error"},
		{"max_tokens missing", messagesBody(map[string]any{"max_tokens": nil}), 400, "invalid_request_error"},
		{"temperature above 1", messagesBody(map[string]any{"temperature": 1.5}), 400, "invalid_request_error"},
		{"image", messagesBody(map[string]any{"messages": []map[string]any{{"role": "user", "content": []map[string]any{
			{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": "AAAA"}}}}}}), 400, "invalid_request_error"},
		{"malformed", `{"model":`, 400, "invalid_request_error"},
		{"prompt too long", messagesBody(map[string]any{"messages": []map[string]any{{"role": "user", "content": strings.Repeat("word ", 1200)}}}), 400, "invalid_request_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body anthropicError
			e.JSON(t, "POST", "/v1/messages", e.key, tt.body, tt.status, &body)
			if body.Type != "error" || body.Error.Type != tt.typ || body.Error.Message == "" {
				t.Errorf("error body %+v", body)
			}
		})
	}
	var body anthropicError
	e.JSON(t, "POST", "/v1/messages", "", messagesBody(nil), http.StatusUnauthorized, &body)
	if body.Error.Type != "authentication_error" {
		t.Errorf("401 body %+v", body)
	}
}

// TestMessagesPrefill: a final assistant message is continued, streamed or
// not, and its text is part of the prompt (the engine test checks where).
func TestMessagesPrefill(t *testing.T) {
	e := start(t, envOptions{})
	var plain, prefilled anthropicMessage
	e.call(t, "/v1/messages", messagesBody(nil), http.StatusOK, &plain)
	turns := []map[string]any{{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Once upon a time"}}
	e.call(t, "/v1/messages", messagesBody(map[string]any{"messages": turns}), http.StatusOK, &prefilled)
	if prefilled.Usage.prompt() <= plain.Usage.prompt() || len(prefilled.Content) != 1 || prefilled.Content[0].Type != "text" {
		t.Fatalf("prefilled %+v after %+v", prefilled, plain)
	}
	var text strings.Builder
	for _, ev := range e.stream(t, "/v1/messages", messagesBody(map[string]any{"messages": turns, "stream": true})) {
		var d struct {
			Delta struct {
				Text string `json:"text"`
			} `json:"delta"`
		}
		if ev.Name == "content_block_delta" {
			ev.decode(t, &d)
			text.WriteString(d.Delta.Text)
		}
	}
	if text.String() != prefilled.Content[0].Text {
		t.Errorf("streamed %q, answered %q", text.String(), prefilled.Content[0].Text)
	}
	turns[1]["content"] = "Once upon "
	var bad anthropicError
	e.call(t, "/v1/messages", messagesBody(map[string]any{"messages": turns}), http.StatusBadRequest, &bad)
	if bad.Type != "error" || bad.Error.Type != "invalid_request_error" || !strings.Contains(bad.Error.Message, "trailing whitespace") {
		t.Errorf("trailing whitespace: %+v", bad)
	}
}
