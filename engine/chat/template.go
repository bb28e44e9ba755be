package chat

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/ardanlabs/jinja"
)

// Message is one conversation turn.
type Message struct {
	Role    string
	Content string
	// Parts, when set, replaces Content with a list of typed parts (the
	// OpenAI multimodal content form); templates see a list of dicts.
	Parts      []Part
	Name       string
	ToolCalls  []ToolCall
	ToolCallID string
	// Reasoning is the model's earlier reasoning text, passed to templates
	// as reasoning_content (Qwen3 renders it for recent turns).
	Reasoning string
}

// Part is one element of a multimodal message content.
type Part struct {
	Type string // "text", "image", ...
	Text string
}

// ToolCall is a call the assistant made. Arguments is a JSON object, or a
// JSON string holding one (the OpenAI wire form).
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// Input is everything a render needs.
type Input struct {
	Messages []Message
	// Tools are OpenAI tool objects ({"type":"function","function":{...}});
	// their key order is kept.
	Tools               []json.RawMessage
	AddGenerationPrompt bool
	// BOSToken and EOSToken default to the tokens of the loaded config.
	BOSToken, EOSToken string
	// Vars are extra template switches such as enable_thinking. A
	// json.RawMessage value keeps its key order.
	Vars map[string]any
	// Now is the time strftime_now reports; zero means time.Now().
	Now time.Time
	// Limits bound the render; zero means DefaultLimits.
	Limits Limits
	// Inert, when set, reports that a message text encodes the same whether
	// or not it is marked as content (tokenizer.Tokenizer.Inert). When every
	// text is, Render leaves Content empty and skips the render that finds it.
	Inert func(text string) bool
}

// Span is a byte range [Start, End) of Rendered.Text.
type Span struct{ Start, End int }

// Rendered is a rendered prompt. Content lists the parts of Text that came
// from message contents (user-controlled), in order. A tokenizer must not
// match special tokens inside them, so that a user typing "<|im_start|>"
// cannot forge a turn; it should still encode a content span together with
// the template text around it (split only at special tokens found outside
// spans), so that tokenization matches Python's.
type Rendered struct {
	Text    string
	Content []Span
}

// Template is a compiled chat template. It is safe for concurrent use.
type Template struct {
	variants map[string]*compiled // "default" and optionally "tool_use"
	bos, eos string
	fallback bool // the model ships no template: this is ChatML
}

// Fallback reports whether the model shipped no template and ChatML stands in.
func (t *Template) Fallback() bool { return t.fallback }

type compiled struct {
	src     string
	tmpl    *jinja.Template
	topText int  // literal text outside loops and macros, charged once
	nullOK  bool // the template tests message content for None (see messagesValue)
}

// testsNoneContent finds message['content'] is none / message.content is not
// none, but not reasoning_content.
var testsNoneContent = regexp.MustCompile(`[.'"]content['"]?\]? is (not )?none`)

// Parse compiles a single template source.
func Parse(src string) (*Template, error) {
	c, err := compile(src)
	if err != nil {
		return nil, err
	}
	return &Template{variants: map[string]*compiled{"default": c}}, nil
}

func compile(src string) (*compiled, error) {
	if _, err := jinja.Compile(src); err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	inst, top, err := instrument(src)
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	t, err := jinja.Compile(inst)
	if err != nil {
		return nil, fmt.Errorf("parse instrumented chat template: %w", err)
	}
	return &compiled{src: src, tmpl: t, topText: top, nullOK: testsNoneContent.MatchString(src)}, nil
}

// Source returns the template source used when no tools are given (the one
// to inspect for DetectFormat), or the tool_use one when that is all there is.
func (t *Template) Source() string {
	if c, ok := t.variants["default"]; ok {
		return c.src
	}
	if c, ok := t.variants["tool_use"]; ok {
		return c.src
	}
	return ""
}

// Sources returns the source of every named variant.
func (t *Template) Sources() map[string]string {
	out := make(map[string]string, len(t.variants))
	for name, c := range t.variants {
		out[name] = c.src
	}
	return out
}

// BOSToken and EOSToken return the special tokens read by Load.
func (t *Template) BOSToken() string { return t.bos }
func (t *Template) EOSToken() string { return t.eos }

// pick chooses the variant the way transformers does: "tool_use" when tools
// are given and it exists, otherwise "default".
func (t *Template) pick(tools bool) (*compiled, error) {
	if tools {
		if c, ok := t.variants["tool_use"]; ok {
			return c, nil
		}
	}
	if c, ok := t.variants["default"]; ok {
		return c, nil
	}
	if len(t.variants) == 1 {
		for _, c := range t.variants {
			return c, nil
		}
	}
	return nil, fmt.Errorf("chat template has no default variant")
}

// Render renders the conversation to a prompt.
func (t *Template) Render(in Input) (Rendered, error) {
	c, err := t.pick(len(in.Tools) > 0)
	if err != nil {
		return Rendered{}, err
	}
	if in.Limits == (Limits{}) {
		in.Limits = DefaultLimits
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	if in.BOSToken == "" {
		in.BOSToken = t.bos
	}
	if in.EOSToken == "" {
		in.EOSToken = t.eos
	}
	base, err := baseData(in)
	if err != nil {
		return Rendered{}, err
	}
	text, err := c.render(in, base, nil)
	if err != nil {
		return Rendered{}, err
	}
	spans := c.contentSpans(in, base, text)
	return Rendered{Text: text, Content: spans}, nil
}

// render runs the template once. marks, when non-nil, replaces message
// texts with span markers.
func (c *compiled) render(in Input, base map[string]jinja.Value, marks *marker) (out string, err error) {
	msgs, err := messagesValue(in.Messages, marks, c.nullOK)
	if err != nil {
		return "", err
	}
	g := newGuard(in.Limits, c.topText)
	data := make(map[string]jinja.Value, len(base)+16)
	for k, v := range base {
		data[k] = v
	}
	data["messages"] = msgs
	for k, v := range g.globals(in.Now) {
		data[k] = v
	}
	for k, v := range g.callables() {
		data[k] = v
	}
	// A bug in the library must not take the process down with it.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render chat template: internal error: %v", r)
		}
	}()
	out, err = c.tmpl.RenderValues(data)
	if err != nil {
		return "", fmt.Errorf("render chat template: %w", err)
	}
	if len(out) > in.Limits.MaxOutput {
		return "", fmt.Errorf("render chat template: %w: output larger than %d bytes", ErrLimit, in.Limits.MaxOutput)
	}
	return out, nil
}

// baseData holds the template variables that do not depend on markers.
func baseData(in Input) (map[string]jinja.Value, error) {
	data := make(map[string]jinja.Value, len(in.Vars)+6)
	for _, k := range sortedKeys(in.Vars) {
		v, err := varValue(in.Vars[k])
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", k, err)
		}
		data[k] = v
	}
	tools := jinja.None()
	if len(in.Tools) > 0 {
		items := make([]jinja.Value, len(in.Tools))
		for i, raw := range in.Tools {
			v, err := jsonValue(raw)
			if err != nil {
				return nil, fmt.Errorf("tool %d: %w", i, err)
			}
			items[i] = v
		}
		tools = jinja.NewList(items)
	}
	data["tools"] = tools
	data["documents"] = jinja.None()
	data["add_generation_prompt"] = jinja.NewBool(in.AddGenerationPrompt)
	if in.BOSToken != "" {
		data["bos_token"] = jinja.NewString(in.BOSToken)
	}
	if in.EOSToken != "" {
		data["eos_token"] = jinja.NewString(in.EOSToken)
	}
	return data, nil
}

// messagesValue converts the conversation, marking texts when marks is set.
// An assistant turn that only calls tools comes as content null from OpenAI
// clients; it is None only for templates that test for None (DeepSeek renders
// the calls only then), and "" for the others: Qwen3's raises on None in
// Python (and would print "None" here), Llama 3's prints "None".
func messagesValue(msgs []Message, marks *marker, nullOK bool) (jinja.Value, error) {
	text := func(s string) jinja.Value {
		if marks != nil {
			s = marks.mark(s)
		}
		return jinja.NewString(s)
	}
	items := make([]jinja.Value, len(msgs))
	for i, m := range msgs {
		var content jinja.Value
		switch {
		case m.Parts != nil:
			parts := make([]jinja.Value, len(m.Parts))
			for j, p := range m.Parts {
				parts[j] = dict("type", jinja.NewString(p.Type))
				if p.Type == "text" || p.Text != "" {
					parts[j].AsDict().Set("text", text(p.Text))
				}
			}
			content = jinja.NewList(parts)
		case m.Content == "" && len(m.ToolCalls) > 0 && nullOK:
			content = jinja.None()
		default:
			content = text(m.Content)
		}
		if m.Reasoning != "" && marks != nil {
			m.Reasoning = marks.mark(m.Reasoning)
		}
		v, err := messageValue(m, content)
		if err != nil {
			return jinja.Undefined(), fmt.Errorf("message %d: %w", i, err)
		}
		items[i] = v
	}
	return jinja.NewList(items), nil
}
