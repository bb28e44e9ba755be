package ollama

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

func TestResolve(t *testing.T) {
	ids := []string{"Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-1B", "mlx-community/Llama-3.2-1B"}
	cases := []struct{ name, want string }{
		{"Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct"},
		{"Qwen/Qwen2.5-7B-Instruct:latest", "Qwen/Qwen2.5-7B-Instruct"},
		{"qwen2.5:0.5b", "Qwen/Qwen2.5-0.5B-Instruct"},
		{"qwen2.5:7b-instruct", "Qwen/Qwen2.5-7B-Instruct"},
		{"meta-llama/llama-3.2:1b", "meta-llama/Llama-3.2-1B"},
		{"qwen2.5:14b", ""},
		{"gpt-oss", ""},
	}
	for _, c := range cases {
		got, err := Resolve(c.name, ids)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	var amb *AmbiguousError
	if _, err := Resolve("llama-3.2:1b", ids); !errors.As(err, &amb) || len(amb.Candidates) != 2 {
		t.Errorf("llama-3.2:1b is in two orgs: got %v", err)
	}
}

func TestParseKeepAlive(t *testing.T) {
	cases := map[string]time.Duration{`"5m"`: 5 * time.Minute, `300`: 300 * time.Second, `"-1"`: -1, `-1`: -1, `"-5m"`: -1, `0`: 0, `"0"`: 0, `1.5`: 1500 * time.Millisecond}
	for in, want := range cases {
		if got, err := ParseKeepAlive(json.RawMessage(in)); err != nil || got != want {
			t.Errorf("ParseKeepAlive(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseKeepAlive(json.RawMessage(`"soon"`)); err == nil {
		t.Error("keep_alive \"soon\" accepted")
	}
}

func TestChatConversion(t *testing.T) {
	var req ChatRequest
	body := `{"model":"my-profile","messages":[{"role":"user","content":"weather?"},
		{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
		{"role":"tool","content":"22C","tool_name":"get_weather"}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
		"format":"json","think":true,"keep_alive":"10m",
		"options":{"temperature":0.2,"top_k":5,"seed":7,"num_predict":-1,"stop":["\n\n"],"num_ctx":2048,"num_gpu":99},
		"some_future_field":1}`
	if err := Decode([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	temp := 0.9
	out, err := req.Engine(Defaults{Model: "org/model", SystemPrompt: "be brief", Temperature: &temp})
	if err != nil {
		t.Fatal(err)
	}
	o := out.Options
	if out.Model != "org/model" || o.Sampling.Temperature != 0.2 || o.Sampling.TopK != 5 || *o.Sampling.Seed != 7 ||
		o.MaxTokens != 0 || o.Stop[0] != "\n\n" || o.ContextSize != 2048 || *o.KeepAlive != 10*time.Minute {
		t.Errorf("options %+v", out)
	}
	if out.ResponseFormat.Type != "json_object" || out.TemplateVars["enable_thinking"] != true || out.Tools[0].Name != "get_weather" {
		t.Errorf("format/think/tools %+v", out)
	}
	m := out.Messages
	if len(m) != 4 || m[0].Role != "system" || m[2].ToolCalls[0].ID == "" || m[3].ToolCallID != m[2].ToolCalls[0].ID {
		t.Errorf("messages %+v", m)
	}
	// Ollama's default temperature applies when neither the request nor a profile sets one.
	req.Options = nil
	if out, _ := req.Engine(Defaults{}); out.Options.Sampling.Temperature != 0.8 {
		t.Errorf("default temperature %v", out.Options.Sampling.Temperature)
	}
}

// TestToolCallShape: a result's tool calls are written as Ollama documents
// them, arguments as an object (not OpenAI's string), done_reason "stop".
func TestToolCallShape(t *testing.T) {
	res := &engine.Result{FinishReason: "tool_calls", Duration: 3 * time.Second, TTFT: time.Second,
		Usage:     engine.Usage{PromptTokens: 10, CompletionTokens: 5},
		ToolCalls: []engine.ToolCall{{ID: "call_1", Name: "get_current_weather", Arguments: json.RawMessage(`{"format":"celsius","location":"Paris, FR"}`)}}}
	b, err := json.Marshal(ChatFrom("m", time.Unix(0, 0), res, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Message struct {
			ToolCalls []struct {
				Function struct {
					Name      string         `json:"name"`
					Arguments map[string]any `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		DoneReason    string `json:"done_reason"`
		TotalDuration int64  `json:"total_duration"`
		LoadDuration  int64  `json:"load_duration"`
		EvalDuration  int64  `json:"eval_duration"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	tc := got.Message.ToolCalls
	if len(tc) != 1 || tc[0].Function.Name != "get_current_weather" || tc[0].Function.Arguments["location"] != "Paris, FR" {
		t.Errorf("tool calls %s", b)
	}
	if got.DoneReason != "stop" || got.TotalDuration != int64(5*time.Second) || got.LoadDuration != int64(2*time.Second) ||
		got.EvalDuration != int64(2*time.Second) {
		t.Errorf("done record %s", b)
	}
}
