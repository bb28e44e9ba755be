package route

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is a request no target could serve, or a backend's refusal. Status is the
// backend's own status for a 4xx it answered, else 502 (a backend failed) or 503
// (every target's breaker is open). Message names the backend and never holds a key.
type Error struct {
	Status  int
	Backend string // the backend that answered, "" when several failed
	Message string
	Relayed bool // the backend's own error event already reached the client's stream
}

func (e *Error) Error() string { return e.Message }

// upstreamMessage is what a backend's error body says, short, without its key:
// OpenAI's {"error":{"message"}}, Anthropic's {"error":{"message"}}, a bare
// {"error":"..."} or {"detail":"..."} (vLLM, FastAPI), or the text itself.
func upstreamMessage(status int, body []byte, key string) string {
	var env struct {
		Error  json.RawMessage `json:"error"`
		Detail json.RawMessage `json:"detail"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &env) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(env.Error, &inner) == nil && inner.Message != "":
			msg = inner.Message
		case json.Unmarshal(env.Error, &s) == nil && s != "":
			msg = s
		case json.Unmarshal(env.Detail, &s) == nil && s != "":
			msg = s
		}
	}
	if len(msg) > 500 {
		msg = msg[:500] + "..."
	}
	if msg == "" && status > 0 {
		msg = http.StatusText(status)
	}
	if status == 0 {
		return redact(msg, key)
	}
	return fmt.Sprintf("%d %s", status, redact(msg, key))
}

// redact removes the key from s, and any long piece of it: providers echo a
// truncated key ("Incorrect API key provided: sk-abc***wxyz").
func redact(s, key string) string {
	if key == "" {
		return s
	}
	s = strings.ReplaceAll(s, key, "[redacted]")
	words := strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '"' || r == '\'' || r == ',' || r == ':' || r == '*' || r == '.'
	})
	for _, w := range words {
		if len(w) >= 6 && strings.Contains(key, w) {
			s = strings.ReplaceAll(s, w, "[redacted]")
		}
	}
	return s
}
