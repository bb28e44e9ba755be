package openai

import "github.com/mlx-manager/mlx-manager/engine"

// ChatChunk is one event of a streamed chat completion.
type ChatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
	// An extension, on a choice's finish chunk: what the context overflow policy dropped.
	ContextOverflow *ContextOverflow `json:"context_overflow,omitempty"`
	Warning         string           `json:"warning,omitempty"` // on a choice's finish chunk, as in ChatCompletion
}

// ChunkChoice is the piece of one choice in a chunk.
type ChunkChoice struct {
	Index        int           `json:"index"`
	Delta        ChunkDelta    `json:"delta"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

// ChunkDelta is what a chunk adds to a choice's message.
type ChunkDelta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// ChatStream builds the chunks of one streamed chat completion, in the order the
// SDKs expect for each choice: Role first, then Delta pieces, then Finish; Usage
// last of all when the client asked for it.
type ChatStream struct {
	meta     Meta
	logprobs bool
}

// NewChatStream starts the chunks of an answer.
func NewChatStream(m Meta, logprobs bool) *ChatStream {
	return &ChatStream{meta: m, logprobs: logprobs}
}

func (s *ChatStream) chunk(choices ...ChunkChoice) ChatChunk {
	if choices == nil {
		choices = []ChunkChoice{}
	}
	return ChatChunk{ID: s.meta.ID, Object: "chat.completion.chunk", Created: s.meta.Created, Model: s.meta.Model,
		SystemFingerprint: s.meta.SystemFingerprint, Choices: choices}
}

// Role is a choice's first chunk: the assistant role and empty content.
func (s *ChatStream) Role(index int) ChatChunk {
	empty := ""
	return s.chunk(ChunkChoice{Index: index, Delta: ChunkDelta{Role: "assistant", Content: &empty}})
}

// Delta converts one engine delta of choice index; ok is false when it carries nothing.
func (s *ChatStream) Delta(index int, d engine.Delta) (c ChatChunk, ok bool) {
	ch := ChunkChoice{Index: index, Delta: ChunkDelta{ReasoningContent: d.Reasoning}}
	if d.Content != "" {
		text := d.Content
		ch.Delta.Content = &text
	}
	for _, tc := range d.ToolCalls {
		i := tc.Index
		call := ToolCall{Index: &i, Function: FunctionCall{Arguments: tc.Arguments}}
		if tc.ID != "" {
			call.ID, call.Type, call.Function.Name = tc.ID, "function", tc.Name
		}
		ch.Delta.ToolCalls = append(ch.Delta.ToolCalls, call)
	}
	if s.logprobs && len(d.Logprobs) > 0 {
		ch.Logprobs = &ChatLogprobs{Content: tokenLogprobs(d.Logprobs)}
	}
	if ch.Delta.Content == nil && ch.Delta.ReasoningContent == "" && len(ch.Delta.ToolCalls) == 0 && ch.Logprobs == nil {
		return ChatChunk{}, false
	}
	return s.chunk(ch), true
}

// Finish is a choice's last chunk: an empty delta and the finish reason.
func (s *ChatStream) Finish(index int, reason string) ChatChunk {
	return s.chunk(ChunkChoice{Index: index, FinishReason: &reason})
}

// Usage is the chunk stream_options.include_usage asks for: no choices, the usage
// of the whole request.
func (s *ChatStream) Usage(u *Usage) ChatChunk {
	c := s.chunk()
	c.Usage = u
	return c
}
