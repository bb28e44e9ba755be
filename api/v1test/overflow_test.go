package v1test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

type overflowField struct {
	Policy          string `json:"policy"`
	DroppedMessages int    `json:"dropped_messages"`
	DroppedTokens   int    `json:"dropped_tokens"`
}

// TestContextOverflow: a chat longer than the window is refused as before
// without a policy, and trimmed with one, the answer saying what was dropped.
func TestContextOverflow(t *testing.T) {
	e := start(t, envOptions{})
	var history []map[string]any
	for i := range 10 {
		history = append(history,
			map[string]any{"role": "user", "content": fmt.Sprintf("question %d %s", i, strings.Repeat("hello world ", 40))},
			map[string]any{"role": "assistant", "content": fmt.Sprintf("answer %d %s", i, strings.Repeat("hello world ", 40))})
	}
	history = append(history, map[string]any{"role": "user", "content": "and now?"})
	body := func(extra map[string]any) map[string]any {
		b := chatBody(map[string]any{"messages": history, "max_tokens": 4})
		for k, v := range extra {
			b[k] = v
		}
		return b
	}

	if eb := e.Error(t, "POST", "/v1/chat/completions", e.key, body(nil), http.StatusBadRequest); eb.Code == nil || *eb.Code != "context_length_exceeded" {
		t.Fatalf("no policy: %+v", eb)
	}
	if eb := e.Error(t, "POST", "/v1/chat/completions", e.key, body(map[string]any{"context_overflow": "stop"}), http.StatusBadRequest); eb.Code == nil || *eb.Code != "context_length_exceeded" {
		t.Fatalf("stop: %+v", eb)
	}
	if eb := e.Error(t, "POST", "/v1/chat/completions", e.key, body(map[string]any{"context_overflow": "forget"}), http.StatusBadRequest); eb.Param == nil || *eb.Param != "context_overflow" {
		t.Fatalf("unknown policy: %+v", eb)
	}

	var r struct {
		chatResponse
		ContextOverflow *overflowField `json:"context_overflow"`
	}
	e.call(t, "/v1/chat/completions", body(map[string]any{"context_overflow": "truncate_middle"}), http.StatusOK, &r)
	o := r.ContextOverflow
	if o == nil || o.Policy != "truncate_middle" || o.DroppedMessages == 0 || o.DroppedTokens <= 0 {
		t.Fatalf("context_overflow %+v", o)
	}
	if r.Usage.PromptTokens+4 > 1024 || r.Usage.CompletionTokens != 4 {
		t.Fatalf("usage %+v", r.Usage)
	}

	// LM Studio's spelling, streamed: the finish chunk says what was dropped.
	b := body(map[string]any{"context_overflow": "rollingWindow"})
	b["stream"] = true
	var found *overflowField
	for _, ev := range e.stream(t, "/v1/chat/completions", b) {
		if ev.Data == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			ContextOverflow *overflowField `json:"context_overflow"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			t.Fatal(err)
		}
		if c.ContextOverflow != nil {
			if len(c.Choices) != 1 || c.Choices[0].FinishReason == nil {
				t.Errorf("context_overflow on a chunk that is not the finish chunk: %s", ev.Data)
			}
			found = c.ContextOverflow
		}
	}
	if found == nil || found.Policy != "rolling_window" || found.DroppedMessages == 0 || found.DroppedTokens <= 0 {
		t.Fatalf("streamed context_overflow %+v", found)
	}
}
