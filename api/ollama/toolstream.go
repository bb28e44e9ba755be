package ollama

import (
	"encoding/json"

	"github.com/mlx-manager/mlx-manager/engine"
)

// ToolCallStream turns the engine's incremental tool-call deltas (OpenAI's
// shape: a name, then pieces of the arguments) into Ollama's streamed shape:
// each call whole, with its arguments as an object, in its own chunk, sent as
// soon as it is complete (when the next call starts, or at the end), as
// Ollama's /api/chat does.
type ToolCallStream struct {
	cur  int    // index of the call being assembled; -1 before the first
	name string // its name
	args []byte // its arguments so far
	sent int    // calls already sent: the result's first sent calls
	held bool   // a completed call could not be sent early (its arguments were not an object)
}

// NewToolCallStream starts an empty stream.
func NewToolCallStream() *ToolCallStream { return &ToolCallStream{cur: -1} }

// Add takes one delta's tool-call pieces and returns the calls they complete.
func (s *ToolCallStream) Add(deltas []engine.ToolCallDelta) []ToolCall {
	var done []ToolCall
	for _, d := range deltas {
		if d.Index != s.cur {
			if c, ok := s.complete(); ok {
				done = append(done, c)
			}
			s.cur, s.name, s.args = d.Index, d.Name, nil
		}
		if d.Name != "" {
			s.name = d.Name
		}
		s.args = append(s.args, d.Arguments...)
	}
	return done
}

// complete is the call being assembled, once whole, when it can be sent
// before the answer ends.
func (s *ToolCallStream) complete() (ToolCall, bool) {
	if s.cur < 0 || s.held || s.cur != s.sent {
		return ToolCall{}, false
	}
	var obj map[string]any
	if len(s.args) > 0 && json.Unmarshal(s.args, &obj) != nil {
		s.held = true // the result's parsed arguments will say what they were
		return ToolCall{}, false
	}
	args := json.RawMessage(s.args)
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	s.sent++
	return ToolCall{Function: ToolCallFunction{Index: s.cur, Name: s.name, Arguments: args}}, true
}

// Finish returns the calls of the finished result not sent yet.
func (s *ToolCallStream) Finish(final []engine.ToolCall) []ToolCall {
	all := ToolCallsFrom(final)
	if s.sent >= len(all) {
		return nil
	}
	return all[s.sent:]
}
