package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// chatMessages converts the messages of a chat request. A profile's system prompt
// comes first when the request has no system (or developer) message of its own.
func chatMessages(in []ChatMessage, system string) ([]engine.Message, error) {
	if len(in) == 0 {
		return nil, paramErr("messages", "at least one message is required")
	}
	if len(in) > MaxMessages {
		return nil, paramErr("messages", "at most %d messages, got %d", MaxMessages, len(in))
	}
	out := make([]engine.Message, 0, len(in)+1)
	if system != "" && !hasSystem(in) {
		out = append(out, engine.Message{Role: "system", Content: system})
	}
	for i, m := range in {
		em, err := chatMessage(m, fmt.Sprintf("messages[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, em)
	}
	return out, nil
}

func hasSystem(in []ChatMessage) bool {
	for _, m := range in {
		if m.Role == "system" || m.Role == "developer" {
			return true
		}
	}
	return false
}

func chatMessage(m ChatMessage, p string) (engine.Message, error) {
	switch {
	case present(m.Audio):
		return engine.Message{}, unsupported(p+".audio", "audio is not supported")
	case present(m.FunctionCall):
		return engine.Message{}, unsupported(p+".function_call", "function_call is deprecated and not supported: use tool_calls")
	}
	em := engine.Message{Role: m.Role, Name: m.Name}
	switch m.Role {
	case "system", "developer", "user":
		if len(m.ToolCalls) > 0 {
			return em, paramErr(p+".tool_calls", "only assistant messages may have tool_calls")
		}
	case "assistant":
		em.Reasoning = m.ReasoningContent
		calls, err := toolCalls(m.ToolCalls, p)
		if err != nil {
			return em, err
		}
		em.ToolCalls = calls
	case "tool":
		if m.ToolCallID == "" {
			return em, paramErr(p+".tool_call_id", "is required for tool messages")
		}
		em.ToolCallID = m.ToolCallID
	case "function":
		return em, unsupportedValue(p+".role", "function messages are deprecated and not supported: use tool messages")
	default:
		return em, paramErr(p+".role", "must be system, developer, user, assistant or tool, got %q", m.Role)
	}
	if m.Role != "assistant" && m.ReasoningContent != "" {
		return em, paramErr(p+".reasoning_content", "only assistant messages have reasoning")
	}
	if m.Role != "tool" && m.ToolCallID != "" {
		return em, paramErr(p+".tool_call_id", "only tool messages have a tool_call_id")
	}
	text, imgs, err := contentText(m.Content, m.Role, p+".content")
	em.Images = imgs
	if err != nil {
		return em, err
	}
	if !present(m.Content) && !(m.Role == "assistant" && (len(em.ToolCalls) > 0 || m.Refusal != nil)) {
		return em, paramErr(p+".content", "is required for %s messages", m.Role)
	}
	if text == "" && m.Refusal != nil {
		text = *m.Refusal // an earlier refusal is what the assistant said
	}
	em.Content = text
	return em, nil
}

// contentText reads content: a string, or a list of parts: text, refusal
// (from the assistant) and, in user messages, images placed where they stand
// among the text.
func contentText(raw json.RawMessage, role, p string) (string, []engine.Image, error) {
	if !present(raw) {
		return "", nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, paramErr(p, "%v", err)
		}
		return s, nil, nil
	case '[':
	default:
		return "", nil, typeErr(p, "a string or an array of content parts", raw)
	}
	var parts []ContentPart
	if err := decodeStrict(raw, p, &parts); err != nil {
		return "", nil, err
	}
	var b strings.Builder
	var imgs []engine.Image
	for j, part := range parts {
		pp := fmt.Sprintf("%s[%d]", p, j)
		switch part.Type {
		case "text":
			b.WriteString(part.Text)
		case "refusal":
			if role != "assistant" {
				return "", nil, paramErr(pp+".type", "refusal parts are only allowed in assistant messages")
			}
			b.WriteString(part.Refusal)
		case "image_url":
			if role != "user" {
				return "", nil, paramErr(pp+".type", "image_url parts are only allowed in user messages")
			}
			data, err := imageURLPart(part.ImageURL, pp+".image_url")
			if err != nil {
				return "", nil, err
			}
			imgs = addImage(imgs, data, b.Len())
		case "input_audio", "file":
			return "", nil, unsupportedValue(pp+".type", "%s content is not supported: the models served here read text and images", part.Type)
		default:
			return "", nil, paramErr(pp+".type", "unknown content part type %q", part.Type)
		}
	}
	return b.String(), imgs, nil
}

// toolCalls converts an assistant message's tool calls; the arguments string must
// hold a JSON object, which templates render as such.
func toolCalls(in []ToolCall, p string) ([]engine.ToolCall, error) {
	var out []engine.ToolCall
	for i, tc := range in {
		q := fmt.Sprintf("%s.tool_calls[%d]", p, i)
		if tc.Type != "" && tc.Type != "function" {
			return nil, unsupportedValue(q+".type", "only function tool calls are supported, got %q", tc.Type)
		}
		if tc.Function.Name == "" {
			return nil, paramErr(q+".function.name", "is required")
		}
		args := strings.TrimSpace(tc.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(args), &obj); err != nil || obj == nil {
			return nil, paramErr(q+".function.arguments", "must be a JSON object encoded as a string")
		}
		out = append(out, engine.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: json.RawMessage(args)})
	}
	return out, nil
}
