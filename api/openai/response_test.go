package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMeta(t *testing.T) {
	m := NewMeta("chatcmpl-", "profile", "org/model", time.Unix(1700000000, 0))
	if !strings.HasPrefix(m.ID, "chatcmpl-") || len(m.ID) != len("chatcmpl-")+24 || m.Created != 1700000000 || m.Model != "profile" {
		t.Errorf("meta = %+v", m)
	}
	if m.SystemFingerprint != Fingerprint("org/model") || !strings.HasPrefix(m.SystemFingerprint, "fp_") || Fingerprint("a/b") == Fingerprint("a/c") {
		t.Errorf("fingerprint %q", m.SystemFingerprint)
	}
	if NewID("x") == NewID("x") {
		t.Error("ids repeat")
	}
}

func TestChatChoiceFrom(t *testing.T) {
	res := &engine.Result{
		Content: "", Reasoning: "hmm", FinishReason: "tool_calls",
		ToolCalls: []engine.ToolCall{{ID: "call_a", Name: "f", Arguments: json.RawMessage(`{"x":1}`)}},
		Logprobs: []engine.TokenLogprob{{Token: "▁é", Bytes: []byte{0xc3}, Logprob: -0.5,
			Top: []engine.TopLogprob{{Token: "a", Bytes: []byte("a"), Logprob: -1}}}},
	}
	got := marshal(t, ChatChoiceFrom(2, res, true))
	want := `{"index":2,"message":{"role":"assistant","content":null,"refusal":null,"reasoning_content":"hmm",` +
		`"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},` +
		`"logprobs":{"content":[{"token":"bytes:\\xc3","logprob":-0.5,"bytes":[195],"top_logprobs":[{"token":"a","logprob":-1,"bytes":[97]}]}],"refusal":null},` +
		`"finish_reason":"tool_calls"}`
	if got != want {
		t.Errorf("choice\n got %s\nwant %s", got, want)
	}
	got = marshal(t, ChatChoiceFrom(0, &engine.Result{Content: "", FinishReason: "length"}, false))
	if !strings.Contains(got, `"content":""`) || !strings.Contains(got, `"logprobs":null`) {
		t.Errorf("empty answer: %s", got)
	}
}

func TestChatStream(t *testing.T) {
	cs := NewChatStream(Meta{ID: "chatcmpl-x", Created: 5, Model: "m", SystemFingerprint: "fp_1"}, false)
	var lines []string
	add := func(c ChatChunk) { lines = append(lines, marshal(t, c.Choices)) }
	add(cs.Role(0))
	for _, d := range []engine.Delta{
		{Reasoning: "r"},
		{Content: "hi"},
		{ToolCalls: []engine.ToolCallDelta{{Index: 0, ID: "call_1", Name: "f"}}},
		{ToolCalls: []engine.ToolCallDelta{{Index: 0, Arguments: `{"a"`}, {Index: 1, ID: "call_2", Name: "g", Arguments: "{"}}},
	} {
		c, ok := cs.Delta(0, d)
		if !ok {
			t.Fatalf("delta %+v dropped", d)
		}
		add(c)
	}
	if _, ok := cs.Delta(0, engine.Delta{Logprobs: []engine.TokenLogprob{{}}}); ok {
		t.Error("logprobs sent though not asked for")
	}
	add(cs.Finish(0, "tool_calls"))
	want := []string{
		`[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`,
		`[{"index":0,"delta":{"reasoning_content":"r"},"logprobs":null,"finish_reason":null}]`,
		`[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]`,
		`[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null}]`,
		`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}},{"index":1,"id":"call_2","type":"function","function":{"name":"g","arguments":"{"}}]},"logprobs":null,"finish_reason":null}]`,
		`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("chunks\n got %s\nwant %s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	u := marshal(t, cs.Usage(UsageFrom(engine.Usage{PromptTokens: 3, CompletionTokens: 4, CachedTokens: 2})))
	if want := `{"id":"chatcmpl-x","object":"chat.completion.chunk","created":5,"model":"m","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":2}}}`; u != want {
		t.Errorf("usage chunk %s", u)
	}
}

func TestCompletions(t *testing.T) {
	var r CompletionRequest
	if err := Decode([]byte(`{"model":"a/b","prompt":["one","two"],"n":2,"echo":true,"stop":"\n"}`), &r); err != nil {
		t.Fatal(err)
	}
	c, err := r.Engine(Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Requests) != 2 || c.N != 2 || !c.Echo || c.Requests[1].Prompt != "two" || c.Requests[0].Options.MaxTokens != legacyMaxTokens {
		t.Fatalf("completion = %+v", c)
	}
	if s := c.Requests[0].Options.Stop; len(s) != 1 || s[0] != "\n" {
		t.Errorf("stop = %q", s)
	}
	for _, tt := range []struct{ body, param string }{
		{`{"model":"a/b"}`, "prompt"},
		{`{"model":"a/b","prompt":[1,2]}`, "prompt"},
		{`{"model":"a/b","prompt":[[1]]}`, "prompt"},
		{`{"model":"a/b","prompt":"x","logprobs":6}`, "logprobs"},
		{`{"model":"a/b","prompt":"x","logprobs":1,"echo":true}`, "echo"},
		{`{"model":"a/b","prompt":"x","best_of":3}`, "best_of"},
		{`{"model":"a/b","prompt":"x","suffix":"y"}`, "suffix"},
		{`{"model":"a/b","prompt":"x","max_tokens":0}`, "max_tokens"},
	} {
		var r CompletionRequest
		err := Decode([]byte(tt.body), &r)
		if err == nil {
			_, err = r.Engine(Defaults{})
		}
		if pe, ok := err.(*ParamError); !ok || pe.Param != tt.param {
			t.Errorf("%s: err %v, want param %s", tt.body, err, tt.param)
		}
	}

	res := &engine.Result{Content: " world", FinishReason: "length", Logprobs: []engine.TokenLogprob{
		{Bytes: []byte(" wor"), Logprob: -1, Top: []engine.TopLogprob{{Bytes: []byte(" wor"), Logprob: -1}, {Bytes: []byte("!"), Logprob: -2}}},
		{Bytes: []byte("ld"), Logprob: -0.25},
	}}
	got := marshal(t, TextChoiceFrom(1, "hello", res, false, true))
	want := `{"text":" world","index":1,"logprobs":{"tokens":[" wor","ld"],"token_logprobs":[-1,-0.25],"top_logprobs":[{" wor":-1,"!":-2},{}],"text_offset":[0,4]},"finish_reason":"length"}`
	if got != want {
		t.Errorf("choice\n got %s\nwant %s", got, want)
	}
	if ch := TextChoiceFrom(0, "hello", res, true, false); ch.Text != "hello world" || ch.Logprobs != nil {
		t.Errorf("echo: %+v", ch)
	}
	off := 5
	ch, ok := TextChunk(0, engine.Delta{Content: " wor", Logprobs: res.Logprobs[:1]}, true, &off)
	if !ok || ch.Logprobs.TextOffset[0] != 5 || off != 9 {
		t.Errorf("chunk %+v offset %d", ch, off)
	}
	if _, ok := TextChunk(0, engine.Delta{Reasoning: "x"}, false, &off); ok {
		t.Error("a delta without text made a chunk")
	}
}

func TestEmbeddings(t *testing.T) {
	var r EmbeddingRequest
	if err := Decode([]byte(`{"model":"a/b","input":["a","b"],"encoding_format":"base64","dimensions":2,"user":"u"}`), &r); err != nil {
		t.Fatal(err)
	}
	e, err := r.Engine(Defaults{Model: "c/d"})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Base64 || e.Request.Dimensions != 2 || e.Request.Model != "c/d" || len(e.Request.Inputs) != 2 {
		t.Fatalf("embedding = %+v", e)
	}
	vec := []float32{0.6, -0.8}
	list := EmbeddingsFrom("a/b", &engine.EmbedResult{Vectors: [][]float32{vec}, PromptTokens: 3}, true)
	raw, err := base64.StdEncoding.DecodeString(list.Data[0].Embedding.(string))
	if err != nil || len(raw) != 8 {
		t.Fatalf("base64 %v %d", err, len(raw))
	}
	for i, want := range vec {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != want {
			t.Errorf("value %d = %g, want %g", i, got, want)
		}
	}
	got := marshal(t, EmbeddingsFrom("a/b", &engine.EmbedResult{Vectors: [][]float32{vec}, PromptTokens: 3}, false))
	if want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.6,-0.8]}],"model":"a/b","usage":{"prompt_tokens":3,"total_tokens":3}}`; got != want {
		t.Errorf("list %s", got)
	}
	for _, body := range []string{
		`{"model":"a/b"}`, `{"model":"a/b","input":[[1,2],[]]}`, `{"model":"a/b","input":[[1,"a"]]}`, `{"model":"a/b","input":""}`,
		`{"model":"a/b","input":"x","encoding_format":"int8"}`, `{"model":"a/b","input":"x","dimensions":0}`,
	} {
		var r EmbeddingRequest
		err := Decode([]byte(body), &r)
		if err == nil {
			_, err = r.Engine(Defaults{})
		}
		if _, ok := err.(*ParamError); !ok {
			t.Errorf("%s: err %v, want a *ParamError", body, err)
		}
	}
	for body, want := range map[string][][]int32{
		`{"model":"a/b","input":[1,2]}`:       {{1, 2}},
		`{"model":"a/b","input":[[1,2],[3]]}`: {{1, 2}, {3}},
		`{"model":"a/b","input":[ [5] ]}`:     {{5}},
	} {
		var r EmbeddingRequest
		if err := Decode([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		e, err := r.Engine(Defaults{})
		if err != nil || fmt.Sprint(e.Request.Tokens) != fmt.Sprint(want) || e.Request.Inputs != nil {
			t.Errorf("%s: %v, %v", body, e, err)
		}
	}
}

func TestModels(t *testing.T) {
	m := ModelFrom(engine.ModelInfo{ID: "org/name", Modified: time.Unix(10, 0)})
	if m != (Model{ID: "org/name", Object: "model", Created: 10, OwnedBy: "org"}) {
		t.Errorf("model = %+v", m)
	}
	if p := ProfileModel("coder", 3); p.OwnedBy != "profile" || p.ID != "coder" {
		t.Errorf("profile = %+v", p)
	}
}
