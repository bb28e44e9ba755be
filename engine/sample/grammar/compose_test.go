//go:build !race

// One goroutine throughout (grammars composed and walked): make test-norace
// runs these without the race detector, which made them seven times slower.

package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
)

// toolCall builds the grammar for one function call in Qwen/Hermes style.
func toolCall(t *testing.T, name, params string) *Grammar {
	t.Helper()
	args, err := FromSchema([]byte(params))
	if err != nil {
		t.Fatal(err)
	}
	return Seq(Literal(`{"name": "`+name+`", "arguments": `), args, Literal("}"))
}

func TestComposition(t *testing.T) {
	weather := toolCall(t, "get_weather", `{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city"]}`)
	clock := toolCall(t, "get_time", `{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}`)
	hermes := Seq(Literal("<tool_call>\n"), Choice(weather, clock), Literal("\n</tool_call>"))
	mistral := Seq(Literal("[TOOL_CALLS]["), Repeat(Choice(weather, clock), Literal(", "), 1, 3), Literal("]"))
	tests := []struct {
		name string
		g    *Grammar
		good []string
		bad  []string
	}{
		{"literal", Literal("abc"), []string{"abc"}, []string{"ab", "abcd", ""}},
		{"empty literal", Literal(""), []string{""}, []string{"a"}},
		{"seq", Seq(Literal("a"), JSON(), Literal("b")), []string{"a1b", `a{"x":[]}b`}, []string{"ab", "a1"}},
		{"choice", Choice(Literal("yes"), Literal("no"), JSONObject()), []string{"yes", "no", "{}"}, []string{"maybe", "[]"}},
		{"repeat", Repeat(Literal("x"), Literal(","), 2, 3), []string{"x,x", "x,x,x"}, []string{"x", "x,x,x,x", "xx"}},
		{"repeat unbounded", Repeat(Literal("ab"), nil, 0, -1), []string{"", "ab", "ababab"}, []string{"aba"}},
		{"hermes tool call", hermes, []string{
			"<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
			"<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\":\"UTC\"}}\n</tool_call>",
		}, []string{
			"<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"tz\":\"UTC\"}}\n</tool_call>",
			"<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>",
		}},
		{"mistral tool calls", mistral, []string{
			`[TOOL_CALLS][{"name": "get_time", "arguments": {"tz":"UTC"}}]`,
			`[TOOL_CALLS][{"name": "get_time", "arguments": {"tz":"UTC"}}, {"name": "get_weather", "arguments": {"city":"Oslo","unit":"c"}}]`,
		}, []string{`[TOOL_CALLS][]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.good {
				if !accepts(t, tt.g, s) {
					t.Errorf("rejects %q", s)
				}
			}
			for _, s := range tt.bad {
				if accepts(t, tt.g, s) {
					t.Errorf("accepts %q", s)
				}
			}
		})
	}
	// Walk the Hermes grammar with the real vocabulary: the payload between the
	// tags must be a call of one of the two functions with valid arguments.
	m, v := sharedMasker(t)
	r := rand.New(rand.NewPCG(3, 3))
	for range 8 {
		text, ok := randomWalk(t, m, v.eos, hermes, r, 300)
		if !ok {
			continue
		}
		body, found := bytes.CutPrefix(text, []byte("<tool_call>\n"))
		body, found2 := bytes.CutSuffix(body, []byte("\n</tool_call>"))
		var call struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if !found || !found2 || json.Unmarshal(body, &call) != nil || (call.Name != "get_weather" && call.Name != "get_time") {
			t.Fatalf("bad tool call %q", text)
		}
	}
}

func TestCompositionErrors(t *testing.T) {
	for name, g := range map[string]*Grammar{
		"empty choice":   Choice(),
		"repeat min>max": Repeat(Literal("x"), nil, 3, 1),
	} {
		if err := g.Compile(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
		if _, err := NewParser(g); err == nil {
			t.Errorf("%s: parser created", name)
		}
	}
}

func TestParserValid(t *testing.T) {
	p, err := NewParser(Seq(Literal("ab"), Choice(Literal("c"), Literal("cd"))))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{{"", true}, {"a", true}, {"abc", true}, {"abcd", true}, {"abd", false}, {"abcde", false}, {"x", false}} {
		if got := p.Valid([]byte(tt.in)); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if err := p.Advance([]byte("abx")); err == nil || p.Accepting() {
		t.Fatal("bad input advanced the parser")
	}
	if err := p.Advance([]byte("abc")); err != nil || !p.Accepting() || p.Complete() {
		t.Fatalf("after abc: err=%v accepting=%v complete=%v", err, p.Accepting(), p.Complete())
	}
	if err := p.Advance([]byte("d")); err != nil || !p.Complete() {
		t.Fatalf("after abcd: err=%v complete=%v", err, p.Complete())
	}
}
