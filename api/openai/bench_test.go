package openai

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodeChat decodes and converts a long agent chat: 200 messages with
// tool calls and results, and 20 tools.
func BenchmarkDecodeChat(b *testing.B) {
	var msgs []map[string]any
	for i := range 100 {
		msgs = append(msgs,
			map[string]any{"role": "assistant", "content": nil, "tool_calls": []map[string]any{{"id": fmt.Sprint("call_", i), "type": "function",
				"function": map[string]any{"name": "read_file", "arguments": `{"path":"src/main.go","lines":[1,200]}`}}}},
			map[string]any{"role": "tool", "tool_call_id": fmt.Sprint("call_", i), "content": strings.Repeat("func main() {}\n", 40)})
	}
	var tools []map[string]any
	for i := range 20 {
		tools = append(tools, map[string]any{"type": "function", "function": map[string]any{"name": fmt.Sprint("tool_", i),
			"description": "does a thing", "parameters": map[string]any{"type": "object", "properties": map[string]any{"path": map[string]any{"type": "string"}}}}})
	}
	body, err := json.Marshal(map[string]any{"model": "org/model", "messages": msgs, "tools": tools, "temperature": 0.2, "stream": true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var r ChatRequest
		if err := Decode(body, &r); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Engine(Defaults{}); err != nil {
			b.Fatal(err)
		}
	}
}
