package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// toolSystemPrompt teaches tool calling to a model whose template has no tool
// support, in the Hermes format the output parser then reads. It is the prompt
// Hermes-style fine-tunes were trained with, so many models follow it.
const toolSystemPrompt = `You are a function calling AI model. You may call one or more functions to assist with the user query. Here are the available tools:
<tools>
%s
</tools>
For each function call, return a JSON object with the function name and arguments within <tool_call></tool_call> tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>`

// chatPrompt renders req through the model's template and tokenizes it so that
// special tokens come only from the template: text inside message contents is
// encoded with token look-alikes kept as text.
func (l *loaded) chatPrompt(req *ChatRequest) (*job, error) {
	if len(req.Messages) == 0 {
		return nil, &InvalidError{Param: "messages", Err: errors.New("at least one message is required")}
	}
	format := l.format
	if req.ToolFormat != "" {
		f, err := chat.ParseFormat(req.ToolFormat)
		if err != nil {
			return nil, &InvalidError{Param: "tool_format", Err: err}
		}
		format = f
	}
	tools, err := toolObjects(req.Tools)
	if err != nil {
		return nil, err
	}
	msgs := make([]chat.Message, 0, len(req.Messages)+1)
	useTools := len(tools) > 0 && req.ToolChoice.Mode != "none"
	templateTools := useTools && strings.Contains(l.tmpl.Source()+strings.Join(values(l.tmpl.Sources()), ""), "tools")
	switch {
	case !useTools:
		format = chat.FormatNone
	case !templateTools:
		format = chat.FormatHermes
	case format == chat.FormatNone:
		// The template shows the tools but says nothing of a call syntax: the
		// model is asked for none, so the widespread Hermes one is read (and forced).
		format = chat.FormatHermes
	}
	var system string // the tool prompt, for a template that cannot show tools
	if useTools && !templateTools {
		list := make([]string, len(tools))
		for i, t := range tools {
			list[i] = string(t)
		}
		system = fmt.Sprintf(toolSystemPrompt, strings.Join(list, "\n"))
	}
	for i, m := range req.Messages {
		cm, err := chatMessage(m)
		if err != nil {
			return nil, &InvalidError{Param: fmt.Sprintf("messages[%d]", i), Err: err}
		}
		msgs = append(msgs, cm)
	}
	imgs, err := l.attachImages(req, msgs)
	if err != nil {
		return nil, err
	}
	prefill, msgs, err := splitPrefill(req, msgs)
	if err != nil {
		return nil, err
	}
	if system != "" {
		// One system message: many templates accept it only first, or only once.
		if msgs[0].Role == "system" {
			msgs[0].Content += "\n\n" + system
		} else {
			msgs = append([]chat.Message{{Role: "system", Content: system}}, msgs...)
		}
	}
	if l.partsTemplate() {
		msgs = contentParts(msgs, imgs)
	}
	in := chat.Input{Messages: msgs, AddGenerationPrompt: true, Vars: req.TemplateVars}
	if templateTools {
		in.Tools = tools
	}
	text, prompt, overflow, err := l.fitWindow(req, in, prefill, imgs)
	if err != nil {
		return nil, err
	}
	var placed []promptImage
	if imgs != nil {
		if placed, err = imgs.place(text, prompt, l.vision.spec); err != nil {
			return nil, &InvalidError{Param: "messages", Err: fmt.Errorf("chat template: %w", err)}
		}
	}
	j := &job{
		prompt: prompt,
		opts:   req.Options,
		// With tools, every call the output starts is under a tool grammar
		// (constraintFor), so its arguments can stream as they are generated.
		parse:    chat.Options{Format: format, Reasoning: l.reasoning, InReasoning: chat.StartsInReasoning(text), Constrained: useTools},
		overflow: overflow,
		images:   placed,
	}
	if format == chat.FormatQwen3Coder {
		j.parse.StringParams = stringParams(req.Tools)
	}
	if j.constrain, err = l.constraintFor(req, format); err != nil {
		return nil, err
	}
	if j.constrain != nil && j.constrain.eager != nil && !j.parse.InReasoning {
		// The grammar starts at the first token: there is no room for reasoning.
		// (When the prompt opened a reasoning block, the grammar waits for its
		// end instead: see constraint.deferred.)
		j.parse.Reasoning = false
	}
	return j, nil
}

// splitPrefill takes the final assistant message off msgs when req continues
// it: every template can open a new assistant turn (the generation prompt),
// while few can leave one open; the text then follows that prompt.
func splitPrefill(req *ChatRequest, msgs []chat.Message) (string, []chat.Message, error) {
	if !req.ContinueFinal {
		return "", msgs, nil
	}
	i := len(msgs) - 1
	last := msgs[i]
	switch {
	case last.Role != "assistant":
		return "", nil, &InvalidError{Param: fmt.Sprintf("messages[%d]", i), Err: errors.New("only an assistant message can be continued")}
	case len(last.ToolCalls) > 0:
		return "", nil, &InvalidError{Param: fmt.Sprintf("messages[%d]", i), Err: errors.New("an assistant message with tool calls cannot be continued")}
	case i == 0:
		return "", nil, &InvalidError{Param: "messages", Err: errors.New("a conversation cannot start with the answer")}
	}
	return last.Content, msgs[:i], nil
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// segments marks message contents as untrusted text for the tokenizer.
func segments(r chat.Rendered) []tokenizer.Segment {
	var segs []tokenizer.Segment
	pos := 0
	for _, s := range r.Content {
		if s.Start > pos {
			segs = append(segs, tokenizer.Segment{Text: r.Text[pos:s.Start], ParseSpecial: true})
		}
		segs = append(segs, tokenizer.Segment{Text: r.Text[s.Start:s.End]})
		pos = s.End
	}
	if pos < len(r.Text) {
		segs = append(segs, tokenizer.Segment{Text: r.Text[pos:], ParseSpecial: true})
	}
	return segs
}

func chatMessage(m Message) (chat.Message, error) {
	role := m.Role
	switch role {
	case "system", "user", "assistant", "tool":
	case "developer":
		role = "system" // OpenAI's newer name; templates know only system
	default:
		return chat.Message{}, fmt.Errorf("unknown role %q", m.Role)
	}
	cm := chat.Message{Role: role, Content: m.Content, Name: m.Name, ToolCallID: m.ToolCallID, Reasoning: m.Reasoning}
	for _, tc := range m.ToolCalls {
		cm.ToolCalls = append(cm.ToolCalls, chat.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
	}
	return cm, nil
}

// toolObjects renders tools as OpenAI tool objects for the template, keeping the
// key order of each parameter schema.
func toolObjects(tools []Tool) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(tools))
	for i, t := range tools {
		if t.Name == "" {
			return nil, &InvalidError{Param: fmt.Sprintf("tools[%d].function.name", i), Err: errors.New("is required")}
		}
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		fn := struct {
			Name        string          `json:"name"`
			Description string          `json:"description,omitempty"`
			Parameters  json.RawMessage `json:"parameters"`
		}{t.Name, t.Description, params}
		obj := struct {
			Type     string `json:"type"`
			Function any    `json:"function"`
		}{"function", fn}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, &InvalidError{Param: fmt.Sprintf("tools[%d].function.parameters", i), Err: err}
		}
		out = append(out, b)
	}
	return out, nil
}
