package translate

import (
	"encoding/json"
	"fmt"
)

// A Stream translates one answer's events as they come. Event returns what to
// send for one upstream event; End what to send when the upstream stream ended,
// or an error when it ended before the answer was complete.
type Stream interface {
	Event(ev Event) ([]Event, error)
	End() ([]Event, error)
	Usage() Usage
}

func data(v any) Event {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own map and struct values come here
	}
	return Event{Data: b}
}

// MessagesToChat turns an Anthropic message stream into OpenAI chat chunks.
type MessagesToChat struct {
	meta         Meta
	includeUsage bool
	id           string
	tools        map[int]int // Anthropic block index → OpenAI tool_calls index
	usage        Usage
	stop         string
	done         bool
}

// NewMessagesToChat starts the translation of one Anthropic stream.
func NewMessagesToChat(meta Meta, includeUsage bool) *MessagesToChat {
	return &MessagesToChat{meta: meta, includeUsage: includeUsage, tools: map[int]int{}}
}

func (s *MessagesToChat) chunk(delta map[string]any, finish *string) Event {
	choice := map[string]any{"index": 0, "delta": delta, "finish_reason": finish}
	return data(map[string]any{"id": s.id, "object": "chat.completion.chunk", "created": s.meta.Created,
		"model": s.meta.Model, "choices": []any{choice}})
}

// Usage is what the stream reported so far.
func (s *MessagesToChat) Usage() Usage { return s.usage }

// Event translates one Anthropic event.
func (s *MessagesToChat) Event(ev Event) ([]Event, error) {
	var v struct {
		Type    string `json:"type"`
		Index   int    `json:"index"`
		Message struct {
			ID    string  `json:"id"`
			Usage anUsage `json:"usage"`
		} `json:"message"`
		ContentBlock anBlock `json:"content_block"`
		Delta        struct {
			Type        string `json:"type"`
			Text        string `json:"text"`
			Thinking    string `json:"thinking"`
			PartialJSON string `json:"partial_json"`
			StopReason  string `json:"stop_reason"`
		} `json:"delta"`
		Usage *anUsage `json:"usage"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", ev.Name, err)
	}
	switch v.Type {
	case "message_start":
		s.id = "chatcmpl-" + v.Message.ID
		s.usage.Input = v.Message.Usage.InputTokens
		s.usage.Output = v.Message.Usage.OutputTokens
		return []Event{s.chunk(map[string]any{"role": "assistant", "content": ""}, nil)}, nil
	case "content_block_start":
		if v.ContentBlock.Type != "tool_use" {
			return nil, nil
		}
		i := len(s.tools)
		s.tools[v.Index] = i
		call := map[string]any{"index": i, "id": v.ContentBlock.ID, "type": "function",
			"function": map[string]any{"name": v.ContentBlock.Name, "arguments": ""}}
		return []Event{s.chunk(map[string]any{"tool_calls": []any{call}}, nil)}, nil
	case "content_block_delta":
		switch v.Delta.Type {
		case "text_delta":
			return []Event{s.chunk(map[string]any{"content": v.Delta.Text}, nil)}, nil
		case "thinking_delta":
			return []Event{s.chunk(map[string]any{"reasoning_content": v.Delta.Thinking}, nil)}, nil
		case "input_json_delta":
			call := map[string]any{"index": s.tools[v.Index], "function": map[string]any{"arguments": v.Delta.PartialJSON}}
			return []Event{s.chunk(map[string]any{"tool_calls": []any{call}}, nil)}, nil
		}
	case "message_delta":
		if v.Usage != nil {
			if v.Usage.InputTokens > 0 {
				s.usage.Input = v.Usage.InputTokens
			}
			s.usage.Output = v.Usage.OutputTokens
		}
		s.stop = v.Delta.StopReason
	case "message_stop":
		s.done = true
		finish := stopToFinish(s.stop)
		out := []Event{s.chunk(map[string]any{}, &finish)}
		if s.includeUsage {
			out = append(out, data(map[string]any{"id": s.id, "object": "chat.completion.chunk", "created": s.meta.Created,
				"model": s.meta.Model, "choices": []any{}, "usage": oaUsageOf(s.usage)}))
		}
		return append(out, Event{Data: []byte("[DONE]")}), nil
	case "error":
		return nil, fmt.Errorf("%s: %s", v.Error.Type, v.Error.Message)
	}
	return nil, nil // ping, content_block_stop, signature deltas
}

// End checks the stream was complete.
func (s *MessagesToChat) End() ([]Event, error) {
	if !s.done {
		return nil, fmt.Errorf("the stream ended before message_stop")
	}
	return nil, nil
}

// ChatToMessages turns an OpenAI chat chunk stream into Anthropic events. The
// closing message_delta waits for [DONE], because the usage chunk comes after
// the finish_reason.
type ChatToMessages struct {
	meta    Meta
	started bool
	block   int    // index of the open block; -1: none
	kind    string // type of the open block
	tool    int    // OpenAI tool_calls index of the open tool_use block
	usage   Usage
	finish  string
	done    bool
}

// NewChatToMessages starts the translation of one OpenAI stream.
func NewChatToMessages(meta Meta) *ChatToMessages {
	return &ChatToMessages{meta: meta, block: -1, tool: -1}
}

// Usage is what the stream reported so far.
func (s *ChatToMessages) Usage() Usage { return s.usage }

func named(name string, v map[string]any) Event {
	v["type"] = name
	ev := data(v)
	ev.Name = name
	return ev
}

func (s *ChatToMessages) closeBlock() []Event {
	if s.block < 0 || s.kind == "" {
		return nil
	}
	s.kind = ""
	return []Event{named("content_block_stop", map[string]any{"index": s.block})}
}

func (s *ChatToMessages) open(kind string, block map[string]any) []Event {
	out := s.closeBlock()
	s.block++
	s.kind = kind
	block["type"] = kind
	return append(out, named("content_block_start", map[string]any{"index": s.block, "content_block": block}))
}

// Event translates one OpenAI chunk.
func (s *ChatToMessages) Event(ev Event) ([]Event, error) {
	if string(ev.Data) == "[DONE]" {
		return s.finishEvents(), nil
	}
	var c oaChunk
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		return nil, fmt.Errorf("decode chunk: %w", err)
	}
	var errBody struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(ev.Data, &errBody) == nil && errBody.Error != nil {
		return nil, fmt.Errorf("backend stream error: %s", errBody.Error.Message)
	}
	var out []Event
	if !s.started {
		s.started = true
		msg := map[string]any{"id": "msg_" + c.ID, "type": "message", "role": "assistant", "model": s.meta.Model,
			"content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": anUsage{}}
		out = append(out, named("message_start", map[string]any{"message": msg}))
	}
	if c.Usage != nil {
		s.usage = Usage{Input: c.Usage.PromptTokens, Output: c.Usage.CompletionTokens}
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue // Anthropic has one answer; n > 1 cannot be asked for through it
		}
		d := ch.Delta
		for _, r := range []*string{d.ReasoningContent, d.Reasoning} {
			if r != nil && *r != "" {
				if s.kind != "thinking" {
					out = append(out, s.open("thinking", map[string]any{"thinking": ""})...)
				}
				out = append(out, named("content_block_delta", map[string]any{"index": s.block,
					"delta": map[string]any{"type": "thinking_delta", "thinking": *r}}))
			}
		}
		if d.Content != nil && *d.Content != "" {
			if s.kind != "text" {
				out = append(out, s.open("text", map[string]any{"text": ""})...)
			}
			out = append(out, named("content_block_delta", map[string]any{"index": s.block,
				"delta": map[string]any{"type": "text_delta", "text": *d.Content}}))
		}
		for _, tc := range d.ToolCalls {
			idx := s.tool
			if tc.Index != nil {
				idx = *tc.Index
			}
			if s.kind != "tool_use" || idx != s.tool || (tc.ID != "" && tc.Index == nil) {
				s.tool = idx
				out = append(out, s.open("tool_use", map[string]any{"id": tc.ID, "name": tc.Function.Name, "input": map[string]any{}})...)
			}
			if tc.Function.Arguments != "" {
				out = append(out, named("content_block_delta", map[string]any{"index": s.block,
					"delta": map[string]any{"type": "input_json_delta", "partial_json": tc.Function.Arguments}}))
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			s.finish = *ch.FinishReason
		}
	}
	return out, nil
}

func (s *ChatToMessages) finishEvents() []Event {
	if s.done || !s.started {
		return nil
	}
	s.done = true
	out := s.closeBlock()
	out = append(out, named("message_delta", map[string]any{
		"delta": map[string]any{"stop_reason": finishToStop(s.finish), "stop_sequence": nil},
		"usage": map[string]int{"input_tokens": s.usage.Input, "output_tokens": s.usage.Output}}))
	return append(out, named("message_stop", map[string]any{}))
}

// End closes an answer whose stream ended without [DONE] (some servers do) once
// it had finished; a stream cut before its finish_reason is an error.
func (s *ChatToMessages) End() ([]Event, error) {
	if s.done {
		return nil, nil
	}
	if s.finish == "" {
		return nil, fmt.Errorf("the stream ended before its finish_reason")
	}
	return s.finishEvents(), nil
}
