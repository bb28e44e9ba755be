package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that any template source either fails to parse or
// renders within the limits, without panicking or hanging.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/templates/*/tokenizer_config.json")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		var cfg struct {
			ChatTemplate string `json:"chat_template"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			f.Fatal(err)
		}
		f.Add(cfg.ChatTemplate)
	}
	for _, s := range []string{
		`{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}`,
		`{% for i in range(10**9) %}{% endfor %}`,
		`{{ (((((1))))) }}{# c #}{% raw %}{{{% endraw %}`,
		`{% for x in [1] recursive %}{{ loop(x) }}{% endfor %}`,
	} {
		f.Add(s)
	}
	lim := Limits{MaxSteps: 1 << 14, MaxDepth: 64, MaxOutput: 1 << 20}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse(src)
		if err != nil {
			return
		}
		r, err := tmpl.Render(Input{
			Messages: []Message{
				{Role: "system", Content: "sys"},
				{Role: "user", Content: " hi <|im_start|> "},
				{Role: "assistant", ToolCalls: []ToolCall{{ID: "call12345", Name: "f", Arguments: json.RawMessage(`{"a":1}`)}}},
				{Role: "tool", Content: "ok", ToolCallID: "call12345"},
			},
			Tools:               []json.RawMessage{json.RawMessage(`{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}`)},
			AddGenerationPrompt: true,
			Limits:              lim,
		})
		if err != nil {
			return
		}
		if len(r.Text) > lim.MaxOutput {
			t.Fatalf("output %d bytes over the limit", len(r.Text))
		}
		for _, s := range r.Content {
			if s.Start < 0 || s.End > len(r.Text) || s.Start >= s.End {
				t.Fatalf("bad span %+v", s)
			}
		}
	})
}

// FuzzToolParser checks that parsing never panics and that streaming in two
// pieces gives the one-shot result.
func FuzzToolParser(f *testing.F) {
	for _, c := range loadOutputs(f) {
		f.Add(c.Text, uint8(len(c.Text)/2), string(c.Format), c.Reasoning)
	}
	f.Fuzz(func(t *testing.T, text string, cut uint8, format string, reasoning bool) {
		fm, err := ParseFormat(format)
		if err != nil {
			fm = FormatHermes
		}
		opts := Options{Format: fm, Reasoning: reasoning}
		want := ParseOutput(text, opts)
		i := min(int(cut), len(text))
		got := stream(opts, text[:i], text[i:])
		if got.Content != want.Content || got.Reasoning != want.Reasoning || len(got.ToolCalls) != len(want.ToolCalls) {
			t.Fatalf("split at %d: %+v != %+v", i, got, want)
		}
		for k := range got.ToolCalls {
			if got.ToolCalls[k].Name != want.ToolCalls[k].Name || string(got.ToolCalls[k].Arguments) != string(want.ToolCalls[k].Arguments) {
				t.Fatalf("split at %d: call %d %+v != %+v", i, k, got.ToolCalls[k], want.ToolCalls[k])
			}
		}
	})
}
