package ollama

import (
	"encoding/json"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
)

func TestToolCallStream(t *testing.T) {
	final := []engine.ToolCall{
		{ID: "call_0", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Paris"}`)},
		{ID: "call_1", Name: "get_time", Arguments: json.RawMessage(`{"tz":"CET"}`)},
	}
	t.Run("each call once complete", func(t *testing.T) {
		s := NewToolCallStream()
		var sent []ToolCall
		for i, d := range [][]engine.ToolCallDelta{
			{{Index: 0, ID: "call_0", Name: "get_weather"}},
			{{Index: 0, Arguments: `{"city":`}},
			{{Index: 0, Arguments: `"Paris"}`}},
			{{Index: 1, ID: "call_1", Name: "get_time"}}, // the first call is whole now
			{{Index: 1, Arguments: `{"tz":"CET"}`}},
		} {
			got := s.Add(d)
			if want := map[int]int{3: 1}[i]; len(got) != want {
				t.Fatalf("delta %d sent %d calls, want %d", i, len(got), want)
			}
			sent = append(sent, got...)
		}
		sent = append(sent, s.Finish(final)...)
		if len(sent) != 2 || sent[0].Function.Name != "get_weather" || string(sent[0].Function.Arguments) != `{"city":"Paris"}` ||
			sent[1].Function.Index != 1 || string(sent[1].Function.Arguments) != `{"tz":"CET"}` {
			t.Fatalf("sent %+v", sent)
		}
	})
	t.Run("arguments that are no object wait for the result", func(t *testing.T) {
		s := NewToolCallStream()
		s.Add([]engine.ToolCallDelta{{Index: 0, Name: "get_weather", Arguments: `{"city": Paris`}})
		if got := s.Add([]engine.ToolCallDelta{{Index: 1, Name: "get_time"}}); len(got) != 0 {
			t.Fatalf("sent a call with broken arguments early: %+v", got)
		}
		rest := s.Finish(final)
		if len(rest) != 2 || string(rest[0].Function.Arguments) != `{"city":"Paris"}` {
			t.Fatalf("finish %+v", rest)
		}
	})
	t.Run("no calls", func(t *testing.T) {
		s := NewToolCallStream()
		if got := s.Add(nil); len(got) != 0 {
			t.Fatal(got)
		}
		if got := s.Finish(nil); len(got) != 0 {
			t.Fatal(got)
		}
	})
}
