package v1test

import (
	"net/http"
	"strings"
	"testing"
)

// TestReasoning uses a model whose template opens <think>: what it writes is
// reasoning, returned as reasoning_content (OpenAI) and thinking blocks (Anthropic).
func TestReasoning(t *testing.T) {
	e := start(t, envOptions{think: true})
	r := e.chat(t, map[string]any{"model": thinkID, "max_tokens": 6})
	msg := r.Choices[0].Message
	if msg.ReasoningContent == "" || content(r, 0) != "" || r.Usage.CompletionTokens != 6 {
		t.Fatalf("message %+v content %q", msg, content(r, 0))
	}

	body := chatBody(map[string]any{"model": thinkID, "max_tokens": 6, "stream": true})
	var reasoning string
	for _, ev := range e.stream(t, "/v1/chat/completions", body) {
		if ev.Data == "[DONE]" {
			break
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content          *string `json:"content"`
					ReasoningContent string  `json:"reasoning_content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		ev.decode(t, &c)
		for _, ch := range c.Choices {
			reasoning += ch.Delta.ReasoningContent
			if ch.Delta.Content != nil && *ch.Delta.Content != "" {
				t.Errorf("content in a reasoning stream: %q", *ch.Delta.Content)
			}
		}
	}
	if reasoning != msg.ReasoningContent {
		t.Errorf("streamed reasoning %q, want %q", reasoning, msg.ReasoningContent)
	}

	var m anthropicMessage
	e.call(t, "/v1/messages", messagesBody(map[string]any{"model": thinkID}), http.StatusOK, &m)
	if len(m.Content) != 1 || m.Content[0].Type != "thinking" {
		t.Errorf("message content %+v", m.Content)
	}
	var names []string
	for _, ev := range e.stream(t, "/v1/messages", messagesBody(map[string]any{"model": thinkID, "stream": true})) {
		if ev.Name == "content_block_start" || strings.Contains(ev.Data, "thinking_delta") {
			names = append(names, ev.Name)
		}
	}
	if len(names) < 2 || names[0] != "content_block_start" {
		t.Errorf("no thinking block streamed: %v", names)
	}
}

// TestReasoningWithRequiredTool: a forced tool call waits for the reasoning
// block the prompt opened, so reasoning_content is still separated (here the
// random model does not close it within max_tokens: all of it is reasoning).
func TestReasoningWithRequiredTool(t *testing.T) {
	e := start(t, envOptions{think: true})
	body := chatBody(map[string]any{"model": thinkID, "max_tokens": 6, "tool_choice": "required", "tools": weatherTools})
	r := e.chat(t, body)
	msg := r.Choices[0].Message
	if msg.ReasoningContent == "" || content(r, 0) != "" || r.Choices[0].FinishReason != "length" {
		t.Fatalf("message %+v content %q finish %s", msg, content(r, 0), r.Choices[0].FinishReason)
	}
}
