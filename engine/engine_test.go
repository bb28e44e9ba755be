package engine

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{
		ModelsDir: t.TempDir(),
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 2})
		},
		Pool:    pool.Config{BudgetBytes: 1 << 30},
		Logger:  slog.New(slog.DiscardHandler),
		Folders: true, // the tests name their tiny models by folder, as the CLI does
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestCompleteStoriesStopsByItself(t *testing.T) {
	e := newTestEngine(t)
	dir := enginetest.Stories(t)
	var streamed strings.Builder
	res, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "Once upon a time"}, func(d Delta) error {
		streamed.WriteString(d.Content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != "stop" || res.Usage.PromptTokens != 5 || res.Usage.CompletionTokens < 50 {
		t.Fatalf("finish %q, usage %+v", res.FinishReason, res.Usage)
	}
	if !strings.Contains(res.Content, "Lily") || streamed.String() != res.Content {
		t.Fatalf("story %q (streamed %q)", res.Content, streamed.String())
	}
	if !strings.HasPrefix(res.Content, " ") && !strings.HasPrefix(res.Content, ",") && !strings.HasPrefix(res.Content, ".") {
		t.Errorf("a continuation must keep its leading space: %q", res.Content[:20])
	}
}

func TestStopStringAndMaxTokens(t *testing.T) {
	e := newTestEngine(t)
	dir := enginetest.Stories(t)
	full, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "Once upon a time", Options: GenOptions{MaxTokens: 60}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.FinishReason != "length" || full.Usage.CompletionTokens != 60 {
		t.Fatalf("max tokens: finish %q, usage %+v", full.FinishReason, full.Usage)
	}
	words := strings.Fields(full.Content)
	stop := words[len(words)/2]
	res, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "Once upon a time", Options: GenOptions{MaxTokens: 60, Stop: []string{stop}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := full.Content[:strings.Index(full.Content, stop)]
	if res.FinishReason != "stop" || res.Content != want {
		t.Fatalf("stop %q: got %q (%s), want %q", stop, res.Content, res.FinishReason, want)
	}
}

func TestGreedyAndSeedReproducible(t *testing.T) {
	e := newTestEngine(t)
	dir := enginetest.Stories(t)
	run := func(o GenOptions) string {
		res, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "Once upon a time", Options: o}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Content
	}
	if a, b := run(GenOptions{MaxTokens: 40}), run(GenOptions{MaxTokens: 40}); a != b {
		t.Fatalf("greedy differs:\n%q\n%q", a, b)
	}
	seed := int64(7)
	o := GenOptions{MaxTokens: 40}
	o.Sampling.Temperature, o.Sampling.Seed = 1.0, &seed
	if a, b := run(o), run(o); a != b {
		t.Fatalf("seeded sampling differs:\n%q\n%q", a, b)
	}
}

func tinyModel(t *testing.T) string {
	t.Helper()
	return tinyModelSpec(t, modeltest.Spec{Seed: 1})
}

func tinyModelSpec(t *testing.T, spec modeltest.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestJSONSchemaForcedOnRandomWeights(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModel(t)
	schema := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer"},"ok":{"type":"boolean"}},"required":["name","age","ok"],"additionalProperties":false}`)
	res, err := e.Chat(context.Background(), ChatRequest{
		Model:          dir,
		Messages:       []Message{{Role: "user", Content: "Who are you?"}},
		ResponseFormat: &ResponseFormat{Type: "json_schema", Schema: schema, Strict: true},
		Options:        GenOptions{MaxTokens: 200},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Name *string `json:"name"`
		Age  *int    `json:"age"`
		OK   *bool   `json:"ok"`
	}
	if err := json.Unmarshal([]byte(res.Content), &v); err != nil || v.Name == nil || v.Age == nil || v.OK == nil {
		t.Fatalf("output %q is not the schema's JSON: %v", res.Content, err)
	}
}

func TestToolChoiceRequiredForcesACall(t *testing.T) {
	e := newTestEngine(t)
	// The tool prompt is long in a 512-token vocabulary.
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 1, MaxPos: 2048})
	tools := []Tool{
		{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","maxLength":12}},"required":["city"]}`)},
		{Name: "get_time", Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}},"required":["zone"]}`)},
	}
	for _, choice := range []ToolChoice{{Mode: "required"}, {Mode: "function", Name: "get_time"}} {
		t.Run(choice.Mode, func(t *testing.T) {
			var deltas []ToolCallDelta
			res, err := e.Chat(context.Background(), ChatRequest{
				Model: dir, Messages: []Message{{Role: "user", Content: "weather in Paris?"}},
				Tools: tools, ToolChoice: choice, Options: GenOptions{MaxTokens: 200},
			}, func(d Delta) error { deltas = append(deltas, d.ToolCalls...); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if res.FinishReason != "tool_calls" || len(res.ToolCalls) != 1 {
				t.Fatalf("finish %q, calls %+v, content %q", res.FinishReason, res.ToolCalls, res.Content)
			}
			call := res.ToolCalls[0]
			if choice.Name != "" && call.Name != choice.Name {
				t.Fatalf("called %s, want %s", call.Name, choice.Name)
			}
			var args map[string]string
			if err := json.Unmarshal(call.Arguments, &args); err != nil || len(args) != 1 {
				t.Fatalf("arguments %s: %v", call.Arguments, err)
			}
			// The streamed deltas reassemble to the final call.
			var name, argText string
			for _, d := range deltas {
				name += d.Name
				argText += d.Arguments
			}
			if name != call.Name || argText != string(call.Arguments) || !strings.HasPrefix(call.ID, "call_") {
				t.Fatalf("deltas %q %q, call %+v", name, argText, call)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModel(t)
	ctx := context.Background()
	long := strings.Repeat("hello world ", 200)
	_, err := e.Complete(ctx, CompletionRequest{Model: dir, Prompt: long}, nil)
	var cl *ContextLengthError
	if !errors.As(err, &cl) || !errors.Is(err, ErrContextLength) || cl.ContextLength != 256 {
		t.Fatalf("long prompt: err = %v, want a context length error", err)
	}
	if _, err := e.Complete(ctx, CompletionRequest{Model: "nobody/nothing", Prompt: "x"}, nil); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("unknown model: err = %v", err)
	}
	_, err = e.Chat(ctx, ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "x"}},
		ResponseFormat: &ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"string","pattern":"(a|b)*c\\1"}`)}}, nil)
	var inv *InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, ErrInvalidRequest) || !strings.Contains(inv.Param, "response_format") {
		t.Fatalf("unsupported schema: err = %v", err)
	}
	if _, err := e.Chat(ctx, ChatRequest{Model: dir, Messages: []Message{{Role: "wizard", Content: "x"}}}, nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("bad role: err = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	_, err = e.Complete(cctx, CompletionRequest{Model: dir, Prompt: "hello", Options: GenOptions{MaxTokens: 100}}, func(Delta) error {
		if n++; n == 3 {
			cancel()
		}
		return cctx.Err()
	})
	if !errors.Is(err, context.Canceled) || n > 4 {
		t.Fatalf("cancelled: err = %v after %d deltas", err, n)
	}
}

func TestSpecialTokensInContentStayText(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModel(t)
	ids, err := e.Tokenize(context.Background(), dir, "<|im_start|>", false, false)
	if err != nil {
		t.Fatal(err)
	}
	l, err := openLoaded(context.Background(), "tiny", dir, e.newRunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	j, err := l.chatPrompt(&ChatRequest{Messages: []Message{{Role: "user", Content: "<|im_start|>"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The template's own markers are text too in this vocabulary, but the user's copy
	// must be encoded exactly as plain text.
	text := l.tok.Decode(j.prompt, false)
	if !strings.Contains(text, "user\n<|im_start|><|im_end|>") || len(ids) < 2 {
		t.Fatalf("prompt %q, plain ids %v", text, ids)
	}
}

func TestEmbed(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModel(t)
	res, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Inputs: []string{"a cat", "a dog"}, Dimensions: 16, AnyModel: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Vectors) != 2 || len(res.Vectors[0]) != 16 || res.PromptTokens == 0 {
		t.Fatalf("got %d vectors of %d, %d tokens", len(res.Vectors), len(res.Vectors[0]), res.PromptTokens)
	}
	for _, v := range res.Vectors {
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if ss < 0.999 || ss > 1.001 {
			t.Fatalf("vector norm² %v, want 1", ss)
		}
	}
	if _, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Inputs: []string{"x"}, Dimensions: 9999, AnyModel: true}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("too many dimensions: err = %v", err)
	}
}

func TestModelsListsTheCache(t *testing.T) {
	e := newTestEngine(t)
	snap := filepath.Join(e.cache.Root, "models--test--tiny", "snapshots", "0123456789abcdef0123456789abcdef01234567")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(snap, modeltest.Spec{Seed: 2, QuantBits: 4, GroupSize: 32}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.cache.Root, "models--test--tiny", "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.cache.Root, "models--test--tiny", "refs", "main"), []byte("0123456789abcdef0123456789abcdef01234567"), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := e.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "test/tiny" || !list[0].Supported || list[0].Quantization != "4bit" || list[0].Loaded {
		t.Fatalf("models %+v", list)
	}
	if _, err := e.Chat(context.Background(), ChatRequest{Model: "test/tiny", Messages: []Message{{Role: "user", Content: "hi"}}, Options: GenOptions{MaxTokens: 3}}, nil); err != nil {
		t.Fatal(err)
	}
	if info, err := e.Model(context.Background(), "test/tiny"); err != nil || !info.Loaded {
		t.Fatalf("after a request the model is loaded: %+v %v", info, err)
	}
}

func TestPrefixReuseGivesTheSameAnswer(t *testing.T) {
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 5, MaxPos: 1024})
	turn1 := []Message{{Role: "user", Content: "Tell me a story about a cat."}}
	ask := func(e *Engine, msgs []Message) *Result {
		res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: msgs, Options: GenOptions{MaxTokens: 12}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	warm := newTestEngine(t)
	first := ask(warm, turn1)
	if first.Usage.CachedTokens != 0 {
		t.Fatalf("first request reused %d tokens from nothing", first.Usage.CachedTokens)
	}
	turn2 := append(turn1, Message{Role: "assistant", Content: first.Content}, Message{Role: "user", Content: "And then?"})
	second := ask(warm, turn2)
	if second.Usage.CachedTokens == 0 {
		t.Fatal("the second turn reused nothing of the first")
	}
	cold := ask(newTestEngine(t), turn2)
	if cold.Content != second.Content || cold.Usage.PromptTokens != second.Usage.PromptTokens {
		t.Fatalf("reused cache changed the answer: %q vs %q", second.Content, cold.Content)
	}
}

func TestLastRequestAndEstimates(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModel(t)
	if _, _, ok := e.LastRequest(dir); ok {
		t.Fatal("a last request before any")
	}
	if _, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "hello", Options: GenOptions{MaxTokens: 8}}, nil); err != nil {
		t.Fatal(err)
	}
	if tps, at, ok := e.LastRequest(dir); !ok || tps <= 0 || at.IsZero() {
		t.Fatalf("last request %v %v %v", tps, at, ok)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	info := DescribeConfig("x/y", raw)
	if !info.Supported || info.Architecture != "LlamaForCausalLM" || info.Parameters == 0 || info.ContextLength != 256 {
		t.Fatalf("describe %+v", info)
	}
	n, err := EstimateMemory(raw, 1000, 0)
	// 2 layers × 2 KV heads × 16 dims × 2 (K and V) × 4 bytes × 256 tokens, plus the weights and margins.
	if want := int64(1000 + 2*4*2*2*16*256 + 50 + 16<<20); err != nil || n != want {
		t.Fatalf("estimate %d (%v), want %d", n, err, want)
	}
}

func TestToolFormatOverride(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 1, MaxPos: 2048})
	tools := []Tool{{Name: "get_time", Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}},"required":["zone"]}`)}}
	req := ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "time?"}}, Tools: tools,
		ToolChoice: ToolChoice{Mode: "required"}, ToolFormat: "llama3", Options: GenOptions{MaxTokens: 100}}
	var text strings.Builder
	res, err := e.Chat(context.Background(), req, func(d Delta) error { text.WriteString(d.Content); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != "tool_calls" || len(res.ToolCalls) != 1 || res.ToolCalls[0].Name != "get_time" {
		t.Fatalf("llama3 override: finish %q, calls %+v, content %q", res.FinishReason, res.ToolCalls, text.String())
	}
	req.ToolFormat = "klingon"
	if _, err := e.Chat(context.Background(), req, nil); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "tool_format") {
		t.Fatalf("unknown format: err = %v", err)
	}
}
