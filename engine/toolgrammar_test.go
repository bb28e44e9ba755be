package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/sample"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// matches reports whether g accepts text as a whole.
func matches(t *testing.T, g *grammar.Grammar, text string) bool {
	t.Helper()
	p, err := grammar.NewParser(g)
	if err != nil {
		t.Fatal(err)
	}
	return p.Advance([]byte(text)) == nil && p.Accepting()
}

// TestForcedCallsInEachFormat checks the forced-call grammar of every format
// against calls written as the models write them: accepted ones parse (with
// the format's own parser) into calls whose arguments fit the schemas, and
// calls that break the schema or the format are refused.
func TestForcedCallsInEachFormat(t *testing.T) {
	const (
		hermes1 = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>"
		hermes2 = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"CET\"}}\n</tool_call>"
		coder1  = "<tool_call>\n<function=get_weather>\n<parameter=city>\nSão Paulo <b>\n</parameter>\n<parameter=unit>\ncelsius\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"
	)
	cases := []struct {
		format   chat.Format
		parallel bool
		good     []string
		bad      []string
	}{
		{chat.FormatHermes, false,
			[]string{hermes1, strings.Replace(hermes1, ">\n{", ">{", 1), hermes2},
			[]string{hermes1 + "\n" + hermes2, strings.Replace(hermes1, "get_weather", "get_wether", 1), strings.Replace(hermes1, `, "unit": "celsius"`, "", 1),
				strings.Replace(hermes1, "celsius", "kelvin", 1), strings.Replace(hermes1, "Paris", "Paris-Île-de-France", 1),
				strings.Replace(hermes1, `"celsius"}`, `"celsius", "x": 1}`, 1), "Sure. " + hermes1}},
		{chat.FormatHermes, true, []string{hermes1, hermes1 + "\n" + hermes2 + "\n" + hermes1}, []string{hermes1 + hermes2}},
		{chat.FormatLlama3, true,
			[]string{`{"name": "get_weather", "parameters": {"city": "Paris", "unit": "fahrenheit", "days": 2}}`,
				`{"type": "function", "name": "get_time", "parameters": {"zone": "UTC"}}; {"name": "get_time", "parameters": {"zone": "CET"}}`},
			[]string{`{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}`, `{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius", "days": 8}}`}},
		{chat.FormatMistral, true,
			[]string{`[TOOL_CALLS][{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]`},
			[]string{`[TOOL_CALLS][]`, `[{"name": "get_time", "arguments": {"zone": "UTC"}}]`}},
		{chat.FormatQwen3Coder, false,
			[]string{coder1, strings.Replace(coder1, "<parameter=days>\n3\n</parameter>\n", "", 1), "<tool_call>\n<function=get_time>\n<parameter=zone>\nUTC\n</parameter>\n</function>\n</tool_call>"},
			[]string{strings.Replace(coder1, "celsius", "kelvin", 1), strings.Replace(coder1, "\n3\n", "\nthree\n", 1),
				strings.Replace(coder1, "<parameter=city>\nSão Paulo <b>\n</parameter>\n", "", 1), strings.Replace(coder1, "Paulo <b>", "Paulo </parameter>", 1)}},
	}
	for _, c := range cases {
		t.Run(string(c.format), func(t *testing.T) {
			tools := weatherTools
			if c.format == chat.FormatQwen3Coder {
				tools = coderTools // bare text has no length bound
			}
			req := &ChatRequest{Tools: tools, ToolChoice: ToolChoice{Mode: "required"}, ParallelToolCalls: c.parallel}
			spec, err := buildConstraint(req, c.format, -1, nil)
			if err != nil {
				t.Fatal(err)
			}
			opts := chat.Options{Format: c.format, StringParams: stringParams(tools)}
			for _, text := range c.good {
				if !matches(t, spec.eager, text) {
					t.Errorf("refused %q", text)
					continue
				}
				res := chat.ParseOutput(text, opts)
				if res.Content != "" || len(res.ToolCalls) == 0 {
					t.Errorf("%q parses to %+v", text, res)
				}
				for _, call := range res.ToolCalls {
					checkCalls(t, tools, []ToolCall{{ID: "call_x", Name: call.Name, Arguments: call.Arguments}})
				}
			}
			for _, text := range c.bad {
				if matches(t, spec.eager, text) {
					t.Errorf("accepted %q", text)
				}
			}
		})
	}
}

// coderTools are weatherTools for Qwen3-Coder: city is any text.
var coderTools = []Tool{
	{Name: "get_weather", Strict: true, Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","unit"],"additionalProperties":false}`)},
	weatherTools[1],
}

// TestTriggerScan follows outputs fed in pieces and reports where a call
// marker starts the lazy grammar: never inside the reasoning, anchored
// markers only at the start of the answer, markers split across tokens.
func TestTriggerScan(t *testing.T) {
	hermes := []trigger{{text: "<tool_call>"}}
	llama := []trigger{{text: `{"name"`, anchored: true}, {text: "<|python_tag|>"}}
	cases := []struct {
		name     string
		triggers []trigger
		opts     chat.Options
		pieces   []string
		want     string // the text fed to the grammar; "" when nothing triggers
	}{
		{"marker after text", hermes, chat.Options{}, []string{"Sure.", " <tool_call>"}, "<tool_call>"},
		{"marker split across tokens", hermes, chat.Options{}, []string{"ok <to", "ol_c", "all>\n{\"na"}, "<tool_call>\n{\"na"},
		{"no marker", hermes, chat.Options{}, []string{"<tool", "_cal", "l", " > is no tag"}, ""},
		{"reasoning first", hermes, chat.Options{Reasoning: true}, []string{"\n<thi", "nk>I could use <tool_call> here", "</think>\n\n", "<tool_call>"}, "<tool_call>"},
		{"marker inside the reasoning only", hermes, chat.Options{Reasoning: true}, []string{"<think>", "<tool_call>", "..."}, ""},
		{"no reasoning block", hermes, chat.Options{Reasoning: true}, []string{"  <t", "ool_call>"}, "<tool_call>"},
		{"prompt opened the reasoning", hermes, chat.Options{InReasoning: true}, []string{"x <tool_call> y</th", "ink>", "<tool_call>"}, "<tool_call>"},
		{"anchored at the start", llama, chat.Options{}, []string{"  ", `{"na`, `me": "f"`}, `{"name": "f"`},
		{"anchored not after text", llama, chat.Options{}, []string{"Call: ", `{"name": "f"`}, ""},
		{"anchored not after dropped text", llama, chat.Options{}, []string{"A long answer that runs past the kept tail ", `{"name"`}, ""},
		{"unanchored marker anywhere", llama, chat.Options{}, []string{"Call: <|python_tag|>{"}, "<|python_tag|>{"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTriggerScan(c.opts)
			got := ""
			for i, p := range c.pieces {
				next, tr, from := s.feed(c.triggers, []byte(p))
				if tr != nil {
					if got = string(from); i != len(c.pieces)-1 {
						t.Fatalf("triggered at piece %d of %d", i, len(c.pieces))
					}
					break
				}
				s = next
			}
			if got != c.want {
				t.Fatalf("triggered with %q, want %q", got, c.want)
			}
		})
	}
}

// TestLazyRedraw draws through a constraint with fixed preferences: a token
// that starts a call whose grammar refuses the token's own rest is drawn
// again among the others, then the grammar holds until the call is complete.
func TestLazyRedraw(t *testing.T) {
	vocab := [][]byte{[]byte("<tool_call>x"), []byte("<tool_call>"), []byte("hi"), []byte("\n{}"), []byte("</tool_call>"), []byte("<eos>")}
	mk, err := grammar.NewMasker(vocab, nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	call := grammar.Seq(grammar.Literal("<tool_call>"), grammar.Literal("\n{}"), grammar.Literal("</tool_call>"))
	c := &constraint{spec: &constraintSpec{lazy: []trigger{{text: "<tool_call>", g: call}}, single: true}, mk: mk,
		bytes: func(id int32) []byte { return vocab[id] }, mask: grammar.NewBitset(mk.Size())}
	prefer := []int32{0, 2, 1, 3, 4, 5} // the draw takes the first allowed token of this order
	draw := func(m sample.Mask) (sample.Token, error) {
		for _, id := range prefer {
			if m.Allowed(id) {
				return sample.Token{ID: id}, nil
			}
		}
		return sample.Token{}, sample.ErrNoToken
	}
	run := func(steps int) []int32 {
		var got []int32
		for range steps {
			tok, err := c.sample(draw)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.accept(tok.ID); err != nil {
				t.Fatal(err)
			}
			if got = append(got, tok.ID); c.complete() {
				break
			}
		}
		return got
	}
	// "<tool_call>x" would start a call with "x", which the grammar refuses:
	// "hi", the next preference, is drawn instead, every time.
	if got := run(4); !slices.Equal(got, []int32{2, 2, 2, 2}) {
		t.Fatalf("tokens %v, want [2 2 2 2]", got)
	}
	// Now "<tool_call>" comes before "hi": the call starts, and the grammar
	// forces its rest (though "hi" is preferred) until it is complete.
	prefer = []int32{0, 1, 2, 3, 4, 5}
	c.scan = triggerScan{}
	if got := run(6); !slices.Equal(got, []int32{1, 3, 4}) || !c.complete() {
		t.Fatalf("tokens %v, want [1 3 4] and the end", got)
	}
}

func fmtIDs(ids []int32) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// TestConstraintErrors: what the grammar cannot enforce is a 400 naming the
// field and the keyword, except in the schema of a tool that is not strict.
func TestConstraintErrors(t *testing.T) {
	e := newTestEngine(t)
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 1, MaxPos: 2048})
	odd := json.RawMessage(`{"type":"object","properties":{"n":{"type":"number","multipleOf":3}},"required":["n"]}`)
	cases := []struct {
		name  string
		req   ChatRequest
		param string
		text  string
	}{
		{"strict tool", ChatRequest{Tools: []Tool{{Name: "f", Strict: true, Parameters: odd}}, ToolChoice: ToolChoice{Mode: "required"}}, "tools[0].function.parameters", "multipleOf"},
		{"strict tool in auto mode", ChatRequest{Tools: []Tool{{Name: "f", Strict: true, Parameters: odd}}}, "tools[0].function.parameters", "multipleOf"},
		{"response format", ChatRequest{ResponseFormat: &ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"not":{"type":"string"}}`)}}, "response_format.json_schema.schema", "not"},
		{"unknown function", ChatRequest{Tools: weatherTools, ToolChoice: ToolChoice{Mode: "function", Name: "nope"}}, "tool_choice.function.name", "nope"},
		{"required without tools", ChatRequest{ToolChoice: ToolChoice{Mode: "required"}}, "tool_choice", "needs tools"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.Model, c.req.Messages = dir, []Message{{Role: "user", Content: "hi"}}
			c.req.Options.MaxTokens = 5
			_, err := e.Chat(context.Background(), c.req, nil)
			var inv *InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, ErrInvalidRequest) || inv.Param != c.param || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("error %v, want %s naming %q", err, c.param, c.text)
			}
		})
	}
	// The same schema in a tool that is not strict gets any JSON object.
	res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "hi"}},
		Tools: []Tool{{Name: "f", Parameters: odd}}, ToolChoice: ToolChoice{Mode: "required"}, Options: GenOptions{MaxTokens: 60}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ToolCalls) == 1 && !json.Valid(res.ToolCalls[0].Arguments) {
		t.Fatalf("arguments %s", res.ToolCalls[0].Arguments)
	}
}

// TestConstraintCache: the same tools give the same compiled constraint.
func TestConstraintCache(t *testing.T) {
	l, err := openLoaded(context.Background(), "tiny", tinyModel(t), cpuRunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req := &ChatRequest{Tools: weatherTools, ToolChoice: ToolChoice{Mode: "required"}}
	a, err := l.constraintFor(req, chat.FormatHermes)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := l.constraintFor(&ChatRequest{Tools: append([]Tool(nil), weatherTools...), ToolChoice: ToolChoice{Mode: "required"}}, chat.FormatHermes)
	other, _ := l.constraintFor(&ChatRequest{Tools: weatherTools, ToolChoice: ToolChoice{Mode: "function", Name: "get_time"}}, chat.FormatHermes)
	llama, _ := l.constraintFor(req, chat.FormatLlama3)
	if a != b || a == other || a == llama || other == nil || llama == nil {
		t.Fatalf("cache: %p %p %p %p", a, b, other, llama)
	}
	for i := range constraintCache.max + 1 {
		tools := []Tool{{Name: "f", Parameters: json.RawMessage(`{"type":"object","properties":{"x":{"const":` + fmtIDs([]int32{int32(i)}) + `}}}`)}}
		if _, err := l.constraintFor(&ChatRequest{Tools: tools, ToolChoice: ToolChoice{Mode: "required"}}, chat.FormatHermes); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := l.constraintFor(req, chat.FormatHermes); c == a || len(constraintCache.order) != constraintCache.max {
		t.Fatalf("the oldest entry was not evicted (%d entries)", len(constraintCache.order))
	}
}

// TestCoderSchemas: bare text cannot carry a string's bounds, and a
// parameter that may be a string or not has no single form; a strict tool
// with either is refused, another gets free text there. Parameters that are
// not one object with properties cannot be written as elements at all.
func TestCoderSchemas(t *testing.T) {
	cases := []struct {
		schema, refused string
		always          bool // refused for tools that are not strict too
	}{
		{`{"type":"object","properties":{"s":{"type":"string","maxLength":3}}}`, "maxLength", false},
		{`{"type":"object","properties":{"s":{"type":["string","null"]}}}`, "may be a string", false},
		{`{"type":"object","properties":{"s":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}`, "may be a string", false},
		{`{"type":"object","properties":{"s":{"$ref":"#/properties/t"}}}`, "$ref", false},
		{`{"anyOf":[{"type":"object"}]}`, "anyOf", true},
	}
	for _, c := range cases {
		for _, strict := range []bool{true, false} {
			tools := []Tool{{Name: "f", Strict: strict, Parameters: json.RawMessage(c.schema)}}
			_, err := buildConstraint(&ChatRequest{Tools: tools, ToolChoice: ToolChoice{Mode: "required"}}, chat.FormatQwen3Coder, -1, nil)
			refused := strict || c.always
			if refused && (err == nil || !strings.Contains(err.Error(), c.refused) || !errors.Is(err, grammar.ErrUnsupported)) {
				t.Errorf("strict=%v %s: %v, want an error naming %q", strict, c.schema, err, c.refused)
			}
			if !refused && err != nil {
				t.Errorf("%s: %v", c.schema, err)
			}
		}
	}
	// $defs reach the parameters that refer to them; string parameters are listed for the parser.
	tools := []Tool{{Name: "f", Strict: true, Parameters: json.RawMessage(`{"$defs":{"p":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"],"additionalProperties":false},"name":{"type":"string"}},` +
		`"type":"object","properties":{"at":{"$ref":"#/$defs/p"},"who":{"$ref":"#/$defs/name"},"code":{"const":"75001"}},"required":["at","who","code"]}`)}}
	spec, err := buildConstraint(&ChatRequest{Tools: tools, ToolChoice: ToolChoice{Mode: "required"}}, chat.FormatQwen3Coder, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := "<tool_call>\n<function=f>\n<parameter=at>\n{\"x\": 4}\n</parameter>\n<parameter=who>\n12\n</parameter>\n<parameter=code>\n75001\n</parameter>\n</function>\n</tool_call>"
	if !matches(t, spec.eager, text) || matches(t, spec.eager, strings.Replace(text, `{"x": 4}`, `{"y": 4}`, 1)) {
		t.Fatal("$ref parameters are not enforced")
	}
	res := chat.ParseOutput(text, chat.Options{Format: chat.FormatQwen3Coder, StringParams: stringParams(tools)})
	if len(res.ToolCalls) != 1 || validateJSON(tools[0].Parameters, res.ToolCalls[0].Arguments) != nil {
		t.Fatalf("parsed %+v", res)
	}
}

// FuzzToolSchemas builds the forced-call grammars of every format from
// arbitrary tool schemas (client input): an error or a grammar, never a panic,
// and a grammar that compiles.
func FuzzToolSchemas(f *testing.F) {
	for _, t := range append(append([]Tool(nil), weatherTools...), coderTools...) {
		f.Add(string(t.Parameters), true)
	}
	f.Add(`{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}},"$defs":{"x":{"$ref":"#/$defs/x"}}}`, false)
	f.Add(`{"properties":{"a":{"type":["string","integer"]},"b":{"enum":[]},"c":{"const":null}},"required":"a"}`, true)
	f.Add(`{"properties":[1,2]}`, false)
	f.Fuzz(func(t *testing.T, schema string, strict bool) {
		if !json.Valid([]byte(schema)) || len(schema) > 4096 {
			return
		}
		tools := []Tool{{Name: "f", Strict: strict, Parameters: json.RawMessage(schema)}}
		for _, format := range []chat.Format{chat.FormatHermes, chat.FormatLlama3, chat.FormatMistral, chat.FormatQwen3Coder} {
			for _, mode := range []string{"required", "auto"} {
				spec, err := buildConstraint(&ChatRequest{Tools: tools, ToolChoice: ToolChoice{Mode: mode}, ParallelToolCalls: true}, format, -1, nil)
				if err != nil {
					var inv *InvalidError
					if !errors.As(err, &inv) {
						t.Fatalf("%s %s: error %v is not an InvalidError", format, mode, err)
					}
					continue
				}
				if spec.eager == nil && len(spec.lazy) == 0 {
					t.Fatalf("%s %s: empty constraint", format, mode)
				}
			}
			stringParams(tools)
		}
	})
}

// TestDeferredEager: when the prompt opened a reasoning block, a forced call
// waits for </think>: the reasoning is free, the call then follows the grammar.
func TestDeferredEager(t *testing.T) {
	vocab := [][]byte{[]byte("think"), []byte("</think>"), []byte("<tool_call>"), []byte("\n{}"), []byte("</tool_call>"), []byte("hi"), []byte("<eos>")}
	mk, err := grammar.NewMasker(vocab, nil, 6)
	if err != nil {
		t.Fatal(err)
	}
	call := grammar.Seq(grammar.Literal("<tool_call>"), grammar.Literal("\n{}"), grammar.Literal("</tool_call>"))
	if err := call.Compile(); err != nil {
		t.Fatal(err)
	}
	c := &constraint{spec: &constraintSpec{eager: call}, mk: mk, bytes: func(id int32) []byte { return vocab[id] },
		mask: grammar.NewBitset(mk.Size()), deferred: true, scan: newTriggerScan(chat.Options{InReasoning: true})}
	// The model writes [0 5 0 1] while nothing constrains it.
	got := driveConstraint(t, c, []int32{0, 5, 0, 1}, []int32{5, 0, 1, 2, 3, 4}, 10)
	if !slices.Equal(got, []int32{0, 5, 0, 1, 2, 3, 4}) || !c.complete() {
		t.Fatalf("tokens %v, want the free reasoning [0 5 0 1], then the call [2 3 4]", got)
	}
}

// driveConstraint runs c for at most steps tokens with a scripted model: while
// no grammar holds it, the model writes free in order; under a grammar, the
// first token of prefer the mask allows. It returns the tokens accepted, up to
// the one that completes c.
func driveConstraint(t *testing.T, c *constraint, free, prefer []int32, steps int) []int32 {
	t.Helper()
	draw := func(m sample.Mask) (sample.Token, error) {
		if m == nil {
			if len(free) == 0 {
				t.Fatal("the scripted model has nothing left to write freely")
			}
			id := free[0]
			free = free[1:]
			return sample.Token{ID: id}, nil
		}
		for _, id := range prefer {
			if m.Allowed(id) {
				return sample.Token{ID: id}, nil
			}
		}
		return sample.Token{}, sample.ErrNoToken
	}
	var got []int32
	for range steps {
		tok, err := c.sample(draw)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.accept(tok.ID); err != nil {
			t.Fatal(err)
		}
		if got = append(got, tok.ID); c.complete() {
			break
		}
	}
	return got
}
