package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// outputCase is a model output fixture from testdata/outputs.
type outputCase struct {
	Name        string `json:"name"`
	Format      Format `json:"format"`
	Reasoning   bool   `json:"reasoning"`
	InReasoning bool   `json:"in_reasoning"`
	// StringParams: function -> parameters typed string by the tool's schema.
	StringParams map[string]map[string]bool `json:"string_params"`
	Text         string                     `json:"text"`
	Want         struct {
		Content   string `json:"content"`
		Reasoning string `json:"reasoning"`
		ToolCalls []struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
			Raw       *string         `json:"arguments_raw"`
		} `json:"tool_calls"`
	} `json:"want"`
}

func loadOutputs(t testing.TB) []outputCase {
	t.Helper()
	files, err := filepath.Glob("testdata/outputs/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no output fixtures: %v", err)
	}
	var all []outputCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []outputCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, cases...)
	}
	return all
}

func (c outputCase) opts() Options {
	return Options{Format: c.Format, Reasoning: c.Reasoning, InReasoning: c.InReasoning, StringParams: c.StringParams}
}

func TestParseOutput(t *testing.T) {
	for _, c := range loadOutputs(t) {
		t.Run(string(c.Format)+"/"+c.Name, func(t *testing.T) {
			got := ParseOutput(c.Text, c.opts())
			if got.Content != c.Want.Content || got.Reasoning != c.Want.Reasoning {
				t.Fatalf("content %q reasoning %q, want %q / %q", got.Content, got.Reasoning, c.Want.Content, c.Want.Reasoning)
			}
			if len(got.ToolCalls) != len(c.Want.ToolCalls) {
				t.Fatalf("got %d tool calls %+v, want %d", len(got.ToolCalls), got.ToolCalls, len(c.Want.ToolCalls))
			}
			for i, w := range c.Want.ToolCalls {
				g := got.ToolCalls[i]
				if g.Name != w.Name {
					t.Fatalf("call %d name %q, want %q", i, g.Name, w.Name)
				}
				if w.Raw != nil {
					if string(g.Arguments) != *w.Raw {
						t.Fatalf("call %d raw arguments %q, want %q", i, g.Arguments, *w.Raw)
					}
					continue
				}
				if !jsonEqual(t, g.Arguments, w.Arguments) {
					t.Fatalf("call %d arguments %s, want %s", i, g.Arguments, w.Arguments)
				}
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("arguments %q are not JSON: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestStreamingMatchesParse feeds every fixture split at every byte, and
// one byte at a time, and checks the events add up to ParseOutput's result.
func TestStreamingMatchesParse(t *testing.T) {
	for _, c := range loadOutputs(t) {
		t.Run(string(c.Format)+"/"+c.Name, func(t *testing.T) {
			want := ParseOutput(c.Text, c.opts())
			for i := 0; i <= len(c.Text); i++ {
				if got := stream(c.opts(), c.Text[:i], c.Text[i:]); !reflect.DeepEqual(got, want) {
					t.Fatalf("split at %d: got %+v, want %+v", i, got, want)
				}
			}
			pieces := make([]string, len(c.Text))
			for i := 0; i < len(c.Text); i++ {
				pieces[i] = c.Text[i : i+1]
			}
			if got := stream(c.opts(), pieces...); !reflect.DeepEqual(got, want) {
				t.Fatalf("byte by byte: got %+v, want %+v", got, want)
			}
		})
	}
}

func stream(opts Options, pieces ...string) Result {
	p := NewParser(opts)
	var ev []Event
	for _, s := range pieces {
		ev = append(ev, p.Feed(s)...)
	}
	ev = append(ev, p.Close()...)
	return Collect(ev)
}

// TestEventsAreIncremental: content and reasoning stream as they arrive; a
// call is held back from its marker until it is decided, then comes whole.
func TestEventsAreIncremental(t *testing.T) {
	p := NewParser(Options{Format: FormatHermes, Reasoning: true})
	var got [][]EventKind
	for _, s := range []string{"<thi", "nk>plan", "</th", "ink>Hi <tool_", "call>{\"name\": \"f\", \"argu", "ments\": {\"a\": ", "1}}", "</tool_call>"} {
		var kinds []EventKind
		for _, ev := range p.Feed(s) {
			if ev.Kind == EventContent && ev.Text == "<" {
				t.Fatal("partial tag emitted as content")
			}
			kinds = append(kinds, ev.Kind)
		}
		got = append(got, kinds)
	}
	got = append(got, []EventKind{p.Close()[0].Kind})
	want := [][]EventKind{nil, {EventReasoning}, nil, {EventContent}, nil, nil, {EventToolCallStart, EventToolCallArgs}, nil, {EventDone}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestDetectFormat(t *testing.T) {
	src := func(name string) string {
		tmpl, err := Load(filepath.Join("testdata/templates", name))
		if err != nil {
			t.Fatal(err)
		}
		return tmpl.Source()
	}
	tests := []struct {
		template, modelType string
		want                Format
	}{
		{"qwen2.5", "qwen2", FormatHermes},
		{"qwen3", "qwen3", FormatHermes},
		{"llama3.1", "llama", FormatLlama3},
		{"llama3.2", "llama", FormatLlama3},
		{"mistral-nemo", "mistral", FormatMistral},
		{"llama2", "llama", FormatNone},
		{"smollm2", "llama", FormatNone},
		{"gpt-oss", "gpt_oss", FormatHarmony},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			if got := DetectFormat(src(tt.template), tt.modelType); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := DetectFormat("<tool_call>\n<function=x>\n<parameter=y>", ""); got != FormatQwen3Coder {
		t.Fatalf("qwen3-coder: got %s", got)
	}
	if !DetectReasoning(src("qwen3")) || DetectReasoning(src("qwen2.5")) {
		t.Fatal("DetectReasoning")
	}
	for _, name := range []string{"hermes", "Llama3", " mistral ", "qwen3-coder", "harmony", "none"} {
		if _, err := ParseFormat(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Fatal("want error for unknown format")
	}
	if !StartsInReasoning("<｜Assistant｜><think>\n") || StartsInReasoning("<|im_start|>assistant\n") {
		t.Fatal("StartsInReasoning")
	}
}
