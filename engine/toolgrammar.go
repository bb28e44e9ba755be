package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// Tool calls and structured output are exact because the sampler only sees
// the tokens a grammar allows:
//
//   - response_format json_object / json_schema: the answer's grammar from the
//     first token (grammar.FromSchema; what it cannot enforce is a 400).
//   - tool_choice required or a named function: the calls in the model's own
//     format (Hermes/Qwen, Llama 3, Mistral, Qwen3-Coder) from the first
//     token. A marker that is a control token ([TOOL_CALLS]) is forced as a
//     token first, since masks never allow control tokens. Harmony's calls
//     are headers of control tokens: they run as steps (toolgrammar_harmony.go).
//   - tool_choice auto: the output is free until it reaches the format's call
//     marker (<tool_call>, [TOOL_CALLS], <|python_tag|>, a bare {"name" at
//     the start for Llama 3, a harmony header to=functions.NAME … <|message|>),
//     never inside the reasoning; from the marker's
//     first byte the call's grammar holds until the call is complete. A token
//     that completes a marker but goes on with text the grammar refuses is
//     drawn again among the others (see constraint.sample).
//   - tool_choice none: no tools in the prompt, no call parsed.
//
// The run loop (generate.go) sees this through a *constraint: sample,
// accept, complete, done.

// constraintSpec is what a request's output must follow. It is immutable and
// cached: a client sends the same tools with every turn, and a composed
// grammar keeps its compiled automaton and token tables.
type constraintSpec struct {
	param  string           // the request field the constraint comes from, for errors
	forced []int32          // special tokens the output opens with (Mistral's [TOOL_CALLS])
	eager  *grammar.Grammar // applies from the first token after forced; nil: only lazily
	lazy   []trigger        // grammars that apply once the output starts a tool call itself
	single bool             // one lazily constrained call ends the output (parallel_tool_calls false)
	steps  []step           // the whole output as steps (harmony calls); then the fields above are unused
}

// trigger is a call marker: when the output reaches it, the grammar g (which
// matches from the marker's first byte) takes over until the call is complete.
// This is llama.cpp's "lazy grammar": tool_choice auto leaves the model free
// to answer in text, yet a call it starts has arguments that fit the schema.
type trigger struct {
	text     string
	anchored bool // only at the start of the output, after whitespace (Llama 3's bare JSON)
	g        *grammar.Grammar
}

// Markers and separators of the formats' calls.
const (
	hermesOpen       = "<tool_call>"
	mistralMarker    = "[TOOL_CALLS]"
	pythonTag        = "<|python_tag|>"
	maxParallelCalls = 8
)

// constraintFor builds, or finds in the cache, the constraint of req whose
// output is parsed as format. It returns nil when the output is free.
func (l *loaded) constraintFor(req *ChatRequest, format chat.Format) (*constraintSpec, error) {
	rf, err := responseGrammar(req.ResponseFormat)
	if err != nil {
		return nil, err
	}
	mode := req.ToolChoice.Mode
	switch mode {
	case "", "auto", "none", "required", "function":
	default:
		return nil, &InvalidError{Param: "tool_choice", Err: fmt.Errorf("unknown tool_choice %q", mode)}
	}
	if len(req.Tools) == 0 && (mode == "required" || mode == "function") {
		return nil, &InvalidError{Param: "tool_choice", Err: errors.New("tool_choice needs tools")}
	}
	if format == chat.FormatHarmony && len(req.Tools) > 0 && (mode == "required" || mode == "function") {
		return l.harmonyConstraint(req)
	}
	if format == chat.FormatHarmony && len(req.Tools) > 0 && mode != "none" && rf == nil {
		return harmonyAuto(req)
	}
	if len(req.Tools) == 0 || mode == "none" || format == chat.FormatHarmony {
		if rf == nil {
			return nil, nil
		}
		return &constraintSpec{param: "response_format", eager: rf}, nil
	}
	marker := int32(-1)
	if id, ok := l.tok.TokenID(mistralMarker); ok && format == chat.FormatMistral && l.tok.IsSpecial(id) {
		marker = id // a control token: the grammar's masks never allow it, so it is forced apart
	}
	key := constraintKey(req, format, marker)
	if c, ok := constraintCache.get(key); ok {
		return c, nil
	}
	c, err := buildConstraint(req, format, marker, rf)
	if err != nil {
		return nil, err
	}
	constraintCache.put(key, c)
	return c, nil
}

// harmonyConstraint is constraintFor's answer for tool_choice required or a
// named function on a harmony model.
func (l *loaded) harmonyConstraint(req *ChatRequest) (*constraintSpec, error) {
	t, err := l.harmonyTokensOf()
	if err != nil {
		return nil, &InvalidError{Param: "tool_choice", Err: err}
	}
	key := constraintKey(req, chat.FormatHarmony, t.start, t.channel, t.message, t.constrain, t.end)
	if c, ok := constraintCache.get(key); ok {
		return c, nil
	}
	only := ""
	if req.ToolChoice.Mode == "function" {
		only = req.ToolChoice.Name
	}
	c, err := harmonySpec(req.Tools, only, t)
	if err != nil {
		return nil, err
	}
	constraintCache.put(key, c)
	return c, nil
}

// responseGrammar is the grammar of response_format, or nil for free text.
func responseGrammar(rf *ResponseFormat) (*grammar.Grammar, error) {
	if rf == nil {
		return nil, nil
	}
	switch rf.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return grammar.JSONObject(), nil
	case "json_schema":
		if len(rf.Schema) == 0 {
			return nil, &InvalidError{Param: "response_format.json_schema.schema", Err: errors.New("is required")}
		}
		g, err := grammar.FromSchema(rf.Schema)
		if err != nil {
			return nil, &InvalidError{Param: "response_format.json_schema.schema", Err: err}
		}
		return g, nil
	}
	return nil, &InvalidError{Param: "response_format.type", Err: fmt.Errorf("unknown type %q", rf.Type)}
}

func buildConstraint(req *ChatRequest, format chat.Format, marker int32, rf *grammar.Grammar) (*constraintSpec, error) {
	only := ""
	if req.ToolChoice.Mode == "function" {
		only = req.ToolChoice.Name
	}
	calls, err := callGrammars(format, req.Tools, only)
	if err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return nil, &InvalidError{Param: "tool_choice.function.name", Err: fmt.Errorf("no tool named %q", only)}
	}
	// A named function is called once, as OpenAI does whatever parallel_tool_calls says.
	parallel := req.ParallelToolCalls && only == ""
	one := grammar.Choice(calls...)
	list := one
	if parallel {
		list = grammar.Repeat(one, grammar.Literal(separator(format)), 1, maxParallelCalls)
	}
	c := &constraintSpec{param: "tools", single: !parallel}
	var eagerCalls, afterMarker *grammar.Grammar // the calls from the first token, as text
	switch format {
	case chat.FormatMistral:
		afterMarker = grammar.Seq(grammar.Literal("["), list, grammar.Literal("]"))
		c.lazy = []trigger{{text: mistralMarker, g: grammar.Seq(grammar.Literal(mistralMarker), afterMarker)}}
		eagerCalls = c.lazy[0].g
		if marker >= 0 {
			eagerCalls = nil // the marker cannot be text of a grammar: it is forced, then afterMarker
		}
	case chat.FormatLlama3:
		// Llama 3.1 and 3.2 write a bare JSON call at the start of the answer
		// (some put "type": "function" first), or one after <|python_tag|>.
		eagerCalls = list
		c.lazy = []trigger{
			{text: `{"name"`, anchored: true, g: list},
			{text: `{"type"`, anchored: true, g: list},
			{text: pythonTag, g: grammar.Seq(grammar.Literal(pythonTag), list)},
		}
	default: // Hermes, Qwen3-Coder, and templates with no format of their own
		eagerCalls = list
		c.lazy = []trigger{{text: hermesOpen, g: one}}
	}
	switch {
	case req.ToolChoice.Mode == "required" || req.ToolChoice.Mode == "function":
		c.eager, c.lazy = eagerCalls, nil
		if eagerCalls == nil {
			c.forced, c.eager = []int32{marker}, afterMarker
		}
	case rf != nil:
		// Content must follow response_format, or the answer is calls. A
		// forced special marker cannot be one branch of a choice: then only
		// the content is constrained.
		c.param, c.lazy, c.eager = "response_format", nil, rf
		if eagerCalls != nil {
			c.eager = grammar.Choice(rf, eagerCalls)
		}
	}
	if c.eager != nil {
		if err := c.eager.Compile(); err != nil {
			return nil, &InvalidError{Param: c.param, Err: err}
		}
	}
	for _, t := range c.lazy {
		if err := t.g.Compile(); err != nil {
			return nil, &InvalidError{Param: "tools", Err: err}
		}
	}
	return c, nil
}

func separator(format chat.Format) string {
	switch format {
	case chat.FormatLlama3:
		return "; "
	case chat.FormatMistral:
		return ", "
	}
	return "\n"
}

// callGrammars is one grammar per tool (only the one named only, when set):
// a whole call in the format, with the tool's arguments.
func callGrammars(format chat.Format, tools []Tool, only string) ([]*grammar.Grammar, error) {
	var calls []*grammar.Grammar
	for i, t := range tools {
		if only != "" && t.Name != only {
			continue
		}
		var g *grammar.Grammar
		var err error
		if format == chat.FormatQwen3Coder {
			g, err = coderCall(t)
		} else {
			var args *grammar.Grammar
			if args, err = argsGrammar(t); err == nil {
				g = jsonCall(format, t.Name, args)
			}
		}
		if err != nil {
			return nil, &InvalidError{Param: fmt.Sprintf("tools[%d].function.parameters", i), Err: err}
		}
		calls = append(calls, g)
	}
	return calls, nil
}

// argsGrammar is the grammar of a tool's arguments. A strict tool's schema
// must be enforceable; a schema of another tool that uses keywords the
// grammar cannot enforce still gets a JSON object, as agents send all kinds
// of schemas and the model was only asked to follow them.
func argsGrammar(t Tool) (*grammar.Grammar, error) {
	if len(t.Parameters) == 0 {
		return grammar.JSONObject(), nil
	}
	g, err := grammar.FromSchema(t.Parameters)
	if err != nil && !t.Strict && errors.Is(err, grammar.ErrUnsupported) {
		return grammar.JSONObject(), nil
	}
	return g, err
}

// jsonCall is one call whose arguments are JSON, as the format writes it.
func jsonCall(format chat.Format, name string, args *grammar.Grammar) *grammar.Grammar {
	qname, _ := json.Marshal(name) // tool names are validated as [A-Za-z0-9_-]
	switch format {
	case chat.FormatLlama3:
		typ := grammar.Repeat(grammar.Literal(`"type": "function", `), nil, 0, 1)
		return grammar.Seq(grammar.Literal("{"), typ, grammar.Literal(`"name": `+string(qname)+`, "parameters": `), args, grammar.Literal("}"))
	case chat.FormatMistral:
		return grammar.Seq(grammar.Literal(`{"name": `+string(qname)+`, "arguments": `), args, grammar.Literal("}"))
	}
	nl := grammar.Repeat(grammar.Literal("\n"), nil, 0, 1)
	return grammar.Seq(grammar.Literal(hermesOpen), nl, grammar.Literal(`{"name": `+string(qname)+`, "arguments": `), args, grammar.Literal("}\n</tool_call>"))
}

// constraintKey names everything a constraint is built from, ids being the
// model's control tokens it forces.
func constraintKey(req *ChatRequest, format chat.Format, ids ...int32) [32]byte {
	h := sha256.New()
	var compact bytes.Buffer
	write := func(parts ...string) {
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s", len(p), p)
		}
	}
	schema := func(raw json.RawMessage) string {
		compact.Reset()
		if json.Compact(&compact, raw) != nil {
			return string(raw)
		}
		return compact.String()
	}
	write(string(format), req.ToolChoice.Mode, req.ToolChoice.Name, fmt.Sprint(req.ParallelToolCalls, ids))
	if rf := req.ResponseFormat; rf != nil {
		write(rf.Type, schema(rf.Schema))
	}
	for _, t := range req.Tools {
		write(t.Name, fmt.Sprint(t.Strict), schema(t.Parameters))
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// constraintCache keeps the constraints of recent tool sets.
var constraintCache = &lru{max: 32, m: map[[32]byte]*constraintSpec{}}

type lru struct {
	mu    sync.Mutex // guards m and order
	max   int
	m     map[[32]byte]*constraintSpec
	order [][32]byte // least recently used first
}

func (c *lru) get(k [32]byte) (*constraintSpec, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	if ok {
		c.touch(k)
	}
	return v, ok
}

func (c *lru) put(k [32]byte, v *constraintSpec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.touch(k)
}

// touch moves k to the most recently used end.
func (c *lru) touch(k [32]byte) {
	for i, o := range c.order {
		if o == k {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	c.order = append(c.order, k)
}
