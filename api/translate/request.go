package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxTokens is Anthropic's required max_tokens when an OpenAI client set none.
const DefaultMaxTokens = 4096

// Options say what a translated request asked for, which the answer's
// translation needs.
type Options struct {
	Stream       bool
	IncludeUsage bool // OpenAI's stream_options.include_usage
}

// ChatToMessagesRequest turns an OpenAI chat completions body into an Anthropic
// Messages body for model.
func ChatToMessagesRequest(body []byte, model string) ([]byte, Options, error) {
	var in oaChatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Options{}, fmt.Errorf("decode chat request: %w", err)
	}
	out := anRequest{Model: model, Temperature: in.Temperature, TopP: in.TopP, Stream: in.Stream, MaxTokens: DefaultMaxTokens}
	switch {
	case in.MaxCompletionTokens != nil:
		out.MaxTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		out.MaxTokens = *in.MaxTokens
	}
	if t := out.Temperature; t != nil && *t > 1 {
		one := 1.0 // OpenAI's range is 0..2, Anthropic's 0..1
		out.Temperature = &one
	}
	if len(in.Stop) > 0 && string(in.Stop) != "null" {
		var one string
		if json.Unmarshal(in.Stop, &one) == nil {
			out.StopSequences = []string{one}
		} else if err := json.Unmarshal(in.Stop, &out.StopSequences); err != nil {
			return nil, Options{}, fmt.Errorf("stop: %w", err)
		}
	}
	if in.User != "" {
		out.Metadata = &struct {
			UserID string `json:"user_id,omitempty"`
		}{in.User}
	}
	var system []string
	for i, m := range in.Messages {
		if err := appendOpenAIMessage(&out, &system, m); err != nil {
			return nil, Options{}, fmt.Errorf("messages[%d]: %w", i, err)
		}
	}
	if len(system) > 0 {
		out.System, _ = json.Marshal(strings.Join(system, "\n\n"))
	}
	for _, t := range in.Tools {
		schema := t.Function.Parameters
		if len(schema) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, anTool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	choice, err := anthropicToolChoice(in.ToolChoice, in.ParallelToolCalls)
	if err != nil {
		return nil, Options{}, err
	}
	out.ToolChoice = choice
	opts := Options{Stream: in.Stream, IncludeUsage: in.StreamOptions != nil && in.StreamOptions.IncludeUsage}
	b, err := json.Marshal(out)
	return b, opts, err
}

// appendOpenAIMessage adds m to out: system text to system, tool answers as
// tool_result blocks of a user turn, and consecutive turns of one role merged
// (Anthropic wants user and assistant to alternate).
func appendOpenAIMessage(out *anRequest, system *[]string, m oaMessage) error {
	var blocks []anBlock
	switch m.Role {
	case "system", "developer":
		text, err := openAIText(m.Content)
		if err != nil {
			return err
		}
		*system = append(*system, text)
		return nil
	case "tool":
		text, err := openAIText(m.Content)
		if err != nil {
			return err
		}
		c, _ := json.Marshal(text)
		blocks = []anBlock{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: c}}
		m.Role = "user"
	case "user", "assistant":
		var err error
		if blocks, err = openAIBlocks(m.Content); err != nil {
			return err
		}
		for _, tc := range m.ToolCalls {
			input := json.RawMessage(tc.Function.Arguments)
			if strings.TrimSpace(tc.Function.Arguments) == "" {
				input = json.RawMessage("{}")
			} else if !json.Valid(input) {
				return fmt.Errorf("tool call %s: arguments are not JSON", tc.ID)
			}
			blocks = append(blocks, anBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
		}
	default:
		return fmt.Errorf("role %q cannot be sent to an Anthropic backend", m.Role)
	}
	if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == m.Role {
		var prev []anBlock
		if err := json.Unmarshal(out.Messages[n-1].Content, &prev); err != nil {
			return err
		}
		blocks = append(prev, blocks...)
		out.Messages = out.Messages[:n-1]
	}
	c, err := json.Marshal(blocks)
	if err != nil {
		return err
	}
	out.Messages = append(out.Messages, anMessage{Role: m.Role, Content: c})
	return nil
}

// openAIText is a content that must be text: a string or text parts.
func openAIText(raw json.RawMessage) (string, error) {
	blocks, err := openAIBlocks(raw)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, b := range blocks {
		if b.Type != "text" {
			return "", errors.New("only text may go here")
		}
		sb.WriteString(b.Text)
	}
	return sb.String(), nil
}

// openAIBlocks turns a content (string, parts or null) into Anthropic blocks.
func openAIBlocks(raw json.RawMessage) ([]anBlock, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return []anBlock{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return []anBlock{}, nil
		}
		return []anBlock{{Type: "text", Text: s}}, nil
	}
	var parts []oaPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	out := make([]anBlock, 0, len(parts))
	for _, p := range parts {
		switch {
		case p.Type == "text":
			out = append(out, anBlock{Type: "text", Text: p.Text})
		case p.Type == "image_url" && p.ImageURL != nil:
			out = append(out, anBlock{Type: "image", Source: imageSource(p.ImageURL.URL)})
		default:
			return nil, fmt.Errorf("content part %q cannot be sent to an Anthropic backend", p.Type)
		}
	}
	return out, nil
}

// imageSource is an image URL as Anthropic takes it: data: URLs inline.
func imageSource(url string) *anSource {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		if meta, data, ok := strings.Cut(rest, ","); ok {
			return &anSource{Type: "base64", MediaType: strings.TrimSuffix(meta, ";base64"), Data: data}
		}
	}
	return &anSource{Type: "url", URL: url}
}

func anthropicToolChoice(raw json.RawMessage, parallel *bool) (*anToolChoice, error) {
	noParallel := parallel != nil && !*parallel
	if len(raw) == 0 || string(raw) == "null" {
		if noParallel {
			return &anToolChoice{Type: "auto", DisableParallelToolUse: true}, nil
		}
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		m := map[string]string{"auto": "auto", "none": "none", "required": "any"}
		t, ok := m[s]
		if !ok {
			return nil, fmt.Errorf("tool_choice %q is unknown", s)
		}
		return &anToolChoice{Type: t, DisableParallelToolUse: noParallel && t != "none"}, nil
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Function.Name == "" {
		return nil, fmt.Errorf("tool_choice: want a string or {\"type\":\"function\",\"function\":{\"name\":...}}")
	}
	return &anToolChoice{Type: "tool", Name: named.Function.Name, DisableParallelToolUse: noParallel}, nil
}

// MessagesToChatRequest turns an Anthropic Messages body into an OpenAI chat
// completions body for model. A stream asks for usage, which Anthropic's
// message_delta carries.
func MessagesToChatRequest(body []byte, model string) ([]byte, Options, error) {
	var in anRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Options{}, fmt.Errorf("decode messages request: %w", err)
	}
	out := oaChatRequest{Model: model, Temperature: in.Temperature, TopP: in.TopP, Stream: in.Stream}
	if in.MaxTokens > 0 {
		out.MaxTokens = &in.MaxTokens
	}
	if in.Stream {
		out.StreamOptions = &oaStreamOpts{IncludeUsage: true}
	}
	if len(in.StopSequences) > 0 {
		out.Stop, _ = json.Marshal(in.StopSequences)
	}
	if in.Metadata != nil {
		out.User = in.Metadata.UserID
	}
	if len(in.System) > 0 && string(in.System) != "null" {
		text, err := anthropicText(in.System)
		if err != nil {
			return nil, Options{}, fmt.Errorf("system: %w", err)
		}
		c, _ := json.Marshal(text)
		out.Messages = append(out.Messages, oaMessage{Role: "system", Content: c})
	}
	for i, m := range in.Messages {
		msgs, err := openAIMessages(m)
		if err != nil {
			return nil, Options{}, fmt.Errorf("messages[%d]: %w", i, err)
		}
		out.Messages = append(out.Messages, msgs...)
	}
	for _, t := range in.Tools {
		var ot oaTool
		ot.Type = "function"
		ot.Function.Name, ot.Function.Description, ot.Function.Parameters = t.Name, t.Description, t.InputSchema
		out.Tools = append(out.Tools, ot)
	}
	if tc := in.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto", "none":
			out.ToolChoice, _ = json.Marshal(tc.Type)
		case "any":
			out.ToolChoice, _ = json.Marshal("required")
		case "tool":
			out.ToolChoice, _ = json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}})
		default:
			return nil, Options{}, fmt.Errorf("tool_choice type %q is unknown", tc.Type)
		}
		if tc.DisableParallelToolUse {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	b, err := json.Marshal(out)
	return b, Options{Stream: in.Stream}, err
}

// openAIMessages turns one Anthropic turn into OpenAI messages: tool results
// become tool messages (first: they answer the previous assistant turn),
// tool_use blocks the assistant's tool_calls, thinking is dropped.
func openAIMessages(m anMessage) ([]oaMessage, error) {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []oaMessage{{Role: m.Role, Content: m.Content}}, nil
	}
	var blocks []anBlock
	if err := json.Unmarshal(m.Content, &blocks); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	var (
		out   []oaMessage
		parts []oaPart
		calls []oaToolCall
	)
	for _, b := range blocks {
		switch b.Type {
		case "text":
			parts = append(parts, oaPart{Type: "text", Text: b.Text})
		case "image":
			if b.Source == nil {
				return nil, errors.New("image without a source")
			}
			url := b.Source.URL
			if b.Source.Type == "base64" {
				url = "data:" + b.Source.MediaType + ";base64," + b.Source.Data
			}
			parts = append(parts, oaPart{Type: "image_url", ImageURL: &struct {
				URL string `json:"url"`
			}{url}})
		case "tool_use":
			var tc oaToolCall
			tc.ID, tc.Type, tc.Function.Name = b.ID, "function", b.Name
			tc.Function.Arguments = string(b.Input)
			if len(b.Input) == 0 {
				tc.Function.Arguments = "{}"
			}
			calls = append(calls, tc)
		case "tool_result":
			text := ""
			if len(b.Content) > 0 {
				var err error
				if text, err = anthropicText(b.Content); err != nil {
					return nil, fmt.Errorf("tool_result: %w", err)
				}
			}
			if b.IsError {
				text = "error: " + text
			}
			c, _ := json.Marshal(text)
			out = append(out, oaMessage{Role: "tool", ToolCallID: b.ToolUseID, Content: c})
		case "thinking", "redacted_thinking":
		default:
			return nil, fmt.Errorf("content block %q cannot be sent to an OpenAI-compatible backend", b.Type)
		}
	}
	if len(parts) == 0 && len(calls) == 0 {
		return out, nil
	}
	msg := oaMessage{Role: m.Role, ToolCalls: calls}
	switch {
	case len(parts) == 0:
		msg.Content = json.RawMessage("null")
	case allText(parts):
		var sb strings.Builder
		for _, p := range parts {
			sb.WriteString(p.Text)
		}
		msg.Content, _ = json.Marshal(sb.String())
	default:
		msg.Content, _ = json.Marshal(parts)
	}
	return append(out, msg), nil
}

func allText(parts []oaPart) bool {
	for _, p := range parts {
		if p.Type != "text" {
			return false
		}
	}
	return true
}

// anthropicText is a string, or text blocks joined.
func anthropicText(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var blocks []anBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, b := range blocks {
		if b.Type != "text" {
			return "", fmt.Errorf("block %q where text was expected", b.Type)
		}
		sb.WriteString(b.Text)
	}
	return sb.String(), nil
}
