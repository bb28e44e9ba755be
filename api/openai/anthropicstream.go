package openai

import (
	"encoding/json"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Event is one server-sent event: its name and its JSON data.
type Event struct {
	Name string
	Data any
}

// MessageStream builds the events of a streamed Messages answer: message_start,
// ping, then for each content block content_block_start, its deltas and
// content_block_stop, then message_delta with the stop reason and usage, and
// message_stop. Reasoning, text and tool calls each get their own blocks, in the
// order the model wrote them.
type MessageStream struct {
	meta  Meta
	input int    // the prompt's tokens, when counted before the answer (SetInputTokens)
	index int    // index of the open block, or of the next one when none is open
	open  string // type of the open block: "", "thinking", "text" or "tool_use"
	tool  int    // the engine's index of the open tool_use block's call
}

// NewMessageStream starts the events of an answer.
func NewMessageStream(m Meta) *MessageStream { return &MessageStream{meta: m} }

type msgEvent map[string]any

// SetInputTokens gives message_start the prompt's token count, as Anthropic's
// does (clients such as Claude Code read their context use from it).
func (s *MessageStream) SetInputTokens(n int) { s.input = n }

// Start is message_start and a ping; message_delta repeats the usage at the end.
func (s *MessageStream) Start() []Event {
	msg := MessageResponse{ID: s.meta.ID, Type: "message", Role: "assistant", Model: s.meta.Model, Content: []any{}}
	msg.Usage.InputTokens = s.input
	return []Event{
		{"message_start", struct {
			Type    string          `json:"type"`
			Message MessageResponse `json:"message"`
		}{"message_start", msg}},
		{"ping", msgEvent{"type": "ping"}},
	}
}

// Delta converts one engine delta into block events.
func (s *MessageStream) Delta(d engine.Delta) []Event {
	var evs []Event
	if d.Reasoning != "" {
		evs = s.ensure(evs, "thinking", ThinkingBlock{Type: "thinking"})
		evs = append(evs, s.delta(msgEvent{"type": "thinking_delta", "thinking": d.Reasoning}))
	}
	if d.Content != "" {
		evs = s.ensure(evs, "text", TextBlock{Type: "text"})
		evs = append(evs, s.delta(msgEvent{"type": "text_delta", "text": d.Content}))
	}
	for _, tc := range d.ToolCalls {
		if tc.ID != "" {
			evs = s.close(evs)
			s.open, s.tool = "tool_use", tc.Index
			evs = append(evs, Event{"content_block_start", msgEvent{"type": "content_block_start", "index": s.index,
				"content_block": ToolUseBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: json.RawMessage(`{}`)}}})
		}
		if tc.Arguments != "" && s.open == "tool_use" && s.tool == tc.Index {
			evs = append(evs, s.delta(msgEvent{"type": "input_json_delta", "partial_json": tc.Arguments}))
		}
	}
	return evs
}

// Finish closes the open block and ends the message.
func (s *MessageStream) Finish(res *engine.Result) []Event {
	evs := s.close(nil)
	reason, seq := StopReason(res)
	u := anthropicUsage(res.Usage)
	usage := msgEvent{"input_tokens": u.InputTokens, "output_tokens": u.OutputTokens, "cache_read_input_tokens": u.CacheReadInputTokens}
	return append(evs,
		Event{"message_delta", msgEvent{"type": "message_delta",
			"delta": msgEvent{"stop_reason": reason, "stop_sequence": seq}, "usage": usage}},
		Event{"message_stop", msgEvent{"type": "message_stop"}},
	)
}

// ErrorEvent is a failure after the stream started, in Anthropic's error shape.
func ErrorEvent(errType, message string) Event {
	return Event{"error", msgEvent{"type": "error", "error": msgEvent{"type": errType, "message": message}}}
}

// ensure opens a block of kind unless one is open.
func (s *MessageStream) ensure(evs []Event, kind string, block any) []Event {
	if s.open == kind {
		return evs
	}
	evs = s.close(evs)
	s.open = kind
	return append(evs, Event{"content_block_start", msgEvent{"type": "content_block_start", "index": s.index, "content_block": block}})
}

func (s *MessageStream) close(evs []Event) []Event {
	if s.open == "" {
		return evs
	}
	evs = append(evs, Event{"content_block_stop", msgEvent{"type": "content_block_stop", "index": s.index}})
	s.open = ""
	s.index++
	return evs
}

func (s *MessageStream) delta(d msgEvent) Event {
	return Event{"content_block_delta", msgEvent{"type": "content_block_delta", "index": s.index, "delta": d}}
}
