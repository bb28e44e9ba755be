package route

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

// Chunks quickUsage reads itself: OpenAI's usage chunk, token chunks, an
// Anthropic message_delta.
var quickUsageChunks = []struct {
	data      string
	u         Usage
	ok, chunk bool
}{
	{`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":0}}}`, Usage{Input: 12, Output: 2}, true, true},
	{`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":0}}`, Usage{Input: 3}, true, false},
	{`{"id":"c","choices":null,"usage":{"prompt_tokens":null,"completion_tokens":-0}}`, Usage{}, true, true},
	{`{"id":"c","choices":[{"delta":{"content":"usage"}}],"usage":null}`, Usage{}, false, false},
	{` {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}} `, Usage{Output: 15}, true, true},
	{`{"choices":[]}`, Usage{}, false, false},
}

// Chunks it leaves to encoding/json: unsure, or not JSON.
var slowUsageChunks = []string{
	`{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}`,
	`{"Usage":{"prompt_tokens":1}}`,
	`{"usage":{"Prompt_Tokens":1}}`,
	`{"usage":{"prompt_tokens":1,"input_tokens":2}}`,
	`{"usage":{"prompt_tokens":1,"prompt_tokens":2}}`,
	`{"usage":{"prompt_tokens":1},"usage":null}`,
	`{"usage":{"prompt_tokens":1.0}}`,
	`{"usage":{"prompt_tokens":1e2}}`,
	`{"usage":{"prompt_tokens":1234567890123456789}}`,
	`{"usage":{"prompt_tokens":"1"}}`,
	`{"us\u0061ge":{"prompt_tokens":1}}`,
	`{"usage":{"prompt_tokens":1}`,
	`{"usage":{"prompt_tokens":1}} x`,
	`{"usage":[]}`,
	`{"choices":{},"usage":{}}`,
	`[DONE]`,
	``,
}

// quickUsage reads what it may as encoding/json does, and leaves the rest.
func TestQuickUsage(t *testing.T) {
	for _, c := range quickUsageChunks {
		u, ok, chunk, sure := quickUsage([]byte(c.data))
		if !sure || u != c.u || ok != c.ok || chunk != c.chunk {
			t.Errorf("quickUsage(%s) = %+v %v %v sure %v, want %+v %v %v", c.data, u, ok, chunk, sure, c.u, c.ok, c.chunk)
		}
		checkUsage(t, []byte(c.data))
	}
	for _, s := range slowUsageChunks {
		if _, _, _, sure := quickUsage([]byte(s)); sure {
			t.Errorf("quickUsage(%s) is sure", s)
		}
		checkUsage(t, []byte(s))
	}
	body := []byte(quickUsageChunks[0].data)
	if n := testing.AllocsPerRun(100, func() { _, _, _ = usageOf(body) }); n != 0 {
		t.Errorf("usageOf: %v allocations, want none", n)
	}
}

// checkUsage fails when usageOf differs from translate.UsageOf and
// usageChunkOnly, encoding/json's answers.
func checkUsage(t *testing.T, data []byte) {
	t.Helper()
	u, ok, chunk := usageOf(data)
	wu, wok := translate.UsageOf(data)
	wchunk := wok && usageChunkOnly(data)
	if u != wu || ok != wok || chunk != wchunk {
		t.Fatalf("usageOf(%q) = %+v %v %v, encoding/json: %+v %v %v", data, u, ok, chunk, wu, wok, wchunk)
	}
}

// FuzzQuickUsage checks usageOf's answers, quick or not, against encoding/json's.
func FuzzQuickUsage(f *testing.F) {
	for _, c := range quickUsageChunks {
		f.Add([]byte(c.data))
	}
	for _, s := range slowUsageChunks {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkUsage(t, data) })
}
