package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// inputItems converts a Responses input: a string is one user message; a list
// holds messages, function calls and their outputs, and reasoning. An assistant's
// reasoning, text and calls in a row become one assistant turn, as templates
// expect. Empty input is allowed only after a previous response (continuing it).
// paths[i] is where message i came from ("input" or the item that opened it).
func inputItems(raw json.RawMessage, continuing bool) (msgs []engine.Message, paths []string, err error) {
	if !present(raw) {
		if continuing {
			return nil, nil, nil
		}
		return nil, nil, paramErr("input", "is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, nil, paramErr("input", "%v", err)
		}
		return []engine.Message{{Role: "user", Content: s}}, []string{"input"}, nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, nil, typeErr("input", "a string or an array of items", raw)
	}
	if len(items) > MaxMessages {
		return nil, nil, paramErr("input", "at most %d items, got %d", MaxMessages, len(items))
	}
	var b turnBuilder
	for i, rawItem := range items {
		p := fmt.Sprintf("input[%d]", i)
		var it InputItem
		if err := decodeStrict(rawItem, p, &it); err != nil {
			return nil, nil, err
		}
		if err := b.add(it, p); err != nil {
			return nil, nil, err
		}
		for len(b.paths) < len(b.out) {
			b.paths = append(b.paths, p)
		}
	}
	if len(b.out) == 0 && !continuing {
		return nil, nil, paramErr("input", "at least one item is required")
	}
	return b.out, b.paths, nil
}

// turnBuilder collects items into engine messages.
type turnBuilder struct {
	out       []engine.Message
	open      bool   // the last message is an assistant turn items may still join
	reasoning string // reasoning waiting for the assistant turn it belongs to
	names     map[string]string
	paths     []string // of out: the item that opened each message
}

func (b *turnBuilder) assistant() *engine.Message {
	if !b.open {
		b.out = append(b.out, engine.Message{Role: "assistant"})
		b.open = true
	}
	m := &b.out[len(b.out)-1]
	if b.reasoning != "" {
		m.Reasoning += b.reasoning
		b.reasoning = ""
	}
	return m
}

func (b *turnBuilder) add(it InputItem, p string) error {
	switch it.Type {
	case "", "message":
		return b.message(it, p)
	case "function_call":
		if it.CallID == "" {
			return paramErr(p+".call_id", "is required")
		}
		if !toolName.MatchString(it.Name) {
			return paramErr(p+".name", "must be 1-%d letters, digits, underscores or dashes, got %q", maxNameLen, it.Name)
		}
		args := json.RawMessage(it.Arguments)
		if strings.TrimSpace(it.Arguments) == "" {
			args = json.RawMessage(`{}`)
		} else if !json.Valid(args) {
			return paramErr(p+".arguments", "must be a JSON object encoded as a string")
		}
		m := b.assistant()
		m.ToolCalls = append(m.ToolCalls, engine.ToolCall{ID: it.CallID, Name: it.Name, Arguments: args})
		if b.names == nil {
			b.names = map[string]string{}
		}
		b.names[it.CallID] = it.Name
	case "function_call_output":
		if it.CallID == "" {
			return paramErr(p+".call_id", "is required")
		}
		text, err := partsText(it.Output, p+".output")
		if err != nil {
			return err
		}
		b.open = false
		b.out = append(b.out, engine.Message{Role: "tool", Content: text, ToolCallID: it.CallID, Name: b.names[it.CallID]})
	case "reasoning":
		var text strings.Builder
		if present(it.Content) {
			s, err := partsText(it.Content, p+".content")
			if err != nil {
				return err
			}
			text.WriteString(s)
		} else {
			for _, s := range it.Summary {
				text.WriteString(s.Text)
			}
		}
		b.reasoning += text.String()
	case "item_reference":
		return unsupportedValue(p+".type", "item references are not supported: send the items, or use previous_response_id")
	default:
		return unsupportedValue(p+".type", "only message, function_call, function_call_output and reasoning items are supported, got %q", it.Type)
	}
	return nil
}

func (b *turnBuilder) message(it InputItem, p string) error {
	var (
		text string
		imgs []engine.Image
		err  error
	)
	if it.Role == "user" {
		text, imgs, err = userParts(it.Content, p+".content")
	} else {
		text, err = partsText(it.Content, p+".content")
	}
	if err != nil {
		return err
	}
	switch it.Role {
	case "assistant":
		m := b.assistant()
		m.Content += text
	case "user", "system", "developer":
		b.open = false
		b.out = append(b.out, engine.Message{Role: it.Role, Content: text, Images: imgs})
	case "":
		return paramErr(p+".role", "is required")
	default:
		return paramErr(p+".role", "must be user, assistant, system or developer, got %q", it.Role)
	}
	return nil
}

// partsText reads a string or a list of text parts (input_text, output_text,
// reasoning_text, refusal); other parts (images, files, audio) are refused.
func partsText(raw json.RawMessage, p string) (string, error) {
	if !present(raw) {
		return "", paramErr(p, "is required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", paramErr(p, "%v", err)
		}
		return s, nil
	}
	var parts []ItemPart
	if raw[0] != '[' {
		return "", typeErr(p, "a string or an array of content parts", raw)
	}
	if err := decodeStrict(raw, p, &parts); err != nil {
		return "", err
	}
	var s strings.Builder
	for i, part := range parts {
		text, err := partText(part, fmt.Sprintf("%s[%d]", p, i))
		if err != nil {
			return "", err
		}
		s.WriteString(text)
	}
	return s.String(), nil
}

// partText is the text of one part; p is the part's path.
func partText(part ItemPart, p string) (string, error) {
	switch part.Type {
	case "input_text", "output_text", "text", "reasoning_text", "summary_text":
		return part.Text, nil
	case "refusal":
		return part.Refusal, nil
	case "input_image":
		return "", unsupportedValue(p+".type", "images are read only in user messages")
	default:
		return "", unsupportedValue(p+".type", "only text parts are supported, got %q", part.Type)
	}
}

// userParts reads a user message's content: text parts as partsText does, and
// input_image parts, each placed where it stands in the text.
func userParts(raw json.RawMessage, p string) (string, []engine.Image, error) {
	if !present(raw) || raw[0] != '[' {
		text, err := partsText(raw, p)
		return text, nil, err
	}
	var parts []ItemPart
	if err := decodeStrict(raw, p, &parts); err != nil {
		return "", nil, err
	}
	var (
		text strings.Builder
		imgs []engine.Image
	)
	for i, part := range parts {
		pp := fmt.Sprintf("%s[%d]", p, i)
		if part.Type != "input_image" {
			s, err := partText(part, pp)
			if err != nil {
				return "", nil, err
			}
			text.WriteString(s)
			continue
		}
		data, err := inputImage(part, pp)
		if err != nil {
			return "", nil, err
		}
		imgs = addImage(imgs, data, text.Len())
	}
	return text.String(), imgs, nil
}

// inputImage reads a Responses input_image part: image_url holds a data: URL
// (an http(s) URL arrives here already fetched, or is refused, as for chat
// completions); uploaded files are not kept by this server.
func inputImage(part ItemPart, p string) ([]byte, error) {
	if present(part.FileID) {
		return nil, unsupportedValue(p+".file_id", "uploaded files are not supported: send the image as image_url (a data: URL)")
	}
	if present(part.Detail) {
		var d string
		if err := json.Unmarshal(part.Detail, &d); err != nil {
			return nil, typeErr(p+".detail", "a string", part.Detail)
		}
		switch d {
		case "auto", "low", "high":
		default:
			return nil, paramErr(p+".detail", "must be auto, low or high, got %q", d)
		}
	}
	if !present(part.ImageURL) {
		return nil, paramErr(p+".image_url", "is required for input_image parts")
	}
	var url string
	if err := json.Unmarshal(part.ImageURL, &url); err != nil {
		return nil, typeErr(p+".image_url", "a string", part.ImageURL)
	}
	return dataURL(url, p+".image_url")
}
