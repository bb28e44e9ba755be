package chat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// FuzzToolParser checks that parsing never panics, that streaming in two
// pieces (and, for short texts, byte by byte) gives the one-shot result, and
// that every call has a name and a JSON object as arguments. A format that
// does not parse (most mutations) checks the text in every format.
func FuzzToolParser(f *testing.F) {
	for _, c := range loadOutputs(f) {
		f.Add(c.Text, uint8(len(c.Text)/2), string(c.Format), c.Reasoning)
	}
	all := []Format{FormatHermes, FormatLlama3, FormatMistral, FormatQwen3Coder, FormatHarmony, FormatNone}
	strs := map[string]map[string]bool{"f": {"a": true}}
	f.Fuzz(func(t *testing.T, text string, cut uint8, format string, reasoning bool) {
		formats := all
		if fm, err := ParseFormat(format); err == nil {
			formats = []Format{fm}
		}
		for _, fm := range formats {
			opts := Options{Format: fm, Reasoning: reasoning, InReasoning: cut&3 == 3, StringParams: strs}
			checkSplits(t, text, int(cut), opts)
		}
	})
}

func checkSplits(t *testing.T, text string, cut int, opts Options) {
	t.Helper()
	want := ParseOutput(text, opts)
	for _, call := range want.ToolCalls {
		if call.Name == "" || !isObject(string(call.Arguments)) {
			t.Fatalf("%s: call %q has arguments %q", opts.Format, call.Name, call.Arguments)
		}
	}
	i := min(cut, len(text))
	sameResult(t, fmt.Sprintf("%s, split at %d", opts.Format, i), stream(opts, text[:i], text[i:]), want)
	if len(text) <= 256 {
		bytes := make([]string, len(text))
		for k := 0; k < len(text); k++ {
			bytes[k] = text[k : k+1]
		}
		sameResult(t, string(opts.Format)+", byte by byte", stream(opts, bytes...), want)
	}
}

func sameResult(t *testing.T, how string, got, want Result) {
	t.Helper()
	if got.Content != want.Content || got.Reasoning != want.Reasoning || len(got.ToolCalls) != len(want.ToolCalls) {
		t.Fatalf("%s: %+v != %+v", how, got, want)
	}
	for k := range got.ToolCalls {
		if got.ToolCalls[k].Name != want.ToolCalls[k].Name || string(got.ToolCalls[k].Arguments) != string(want.ToolCalls[k].Arguments) {
			t.Fatalf("%s: call %d %+v != %+v", how, k, got.ToolCalls[k], want.ToolCalls[k])
		}
	}
}

// FuzzJSONScan checks the incremental scanner against encoding/json: a text
// it completes is valid JSON (up to trailing whitespace), a text it rejects
// is invalid and stays invalid whatever follows the wrong byte, and feeding
// it in two pieces changes nothing.
func FuzzJSONScan(f *testing.F) {
	for _, s := range []string{`{"a": [1, -0.5e+3, true, null, "\u00e9\n"]}`, ` [{}, []] `, `{"a" 1}`, `{"a": 01}`, `{"a": "x` + "\n" + `"}`, `[1,]`, `{"a": -}`, `{"a": tru}`} {
		f.Add(s, uint8(len(s)/2), true)
	}
	f.Fuzz(func(t *testing.T, s string, cut uint8, arrays bool) {
		whole := jsonScan{arrays: arrays}
		res := whole.feed(s)
		i := min(int(cut), len(s))
		split := jsonScan{arrays: arrays}
		split.feed(s[:i])
		if r := split.feed(s); r != res || split.pos != whole.pos || split.end != whole.end {
			t.Fatalf("split at %d: %v at %d, whole %v at %d", i, r, split.pos, res, whole.pos)
		}
		valid := validTop(s, arrays)
		switch res {
		case scanDone:
			if !json.Valid([]byte(s[:whole.end])) || valid != (strings.TrimLeft(s[whole.end:], jsonSpace) == "") {
				t.Fatalf("completed %q at %d; json.Valid says %v", s, whole.end, valid)
			}
		case scanBad:
			if valid || validTop(s[:whole.pos+1], arrays) {
				t.Fatalf("rejected %q at %d; json.Valid says %v", s, whole.pos, valid)
			}
		default:
			if valid {
				t.Fatalf("json.Valid accepts %q, the scanner wants more", s)
			}
		}
	})
}

// validTop reports whether s is valid JSON whose value is an object (or an array).
func validTop(s string, arrays bool) bool {
	lead := strings.TrimLeft(s, jsonSpace)
	return lead != "" && (lead[0] == '{' || arrays && lead[0] == '[') && json.Valid([]byte(s))
}
