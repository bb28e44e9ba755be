package chat

import (
	"fmt"
	"strings"
	"testing"
)

// longCall is a well-formed call in the format whose text after the
// marker is about size bytes.
func longCall(f Format, size int) string {
	pad := strings.Repeat("a", size)
	switch f {
	case FormatLlama3:
		return `<|python_tag|>{"name": "write", "parameters": {"text": "` + pad + `"}}`
	case FormatMistral:
		return `[TOOL_CALLS]write[ARGS]{"text": "` + pad + `"}`
	case FormatQwen3Coder:
		return "<tool_call>\n<function=write>\n<parameter=text>\n" + pad + "\n</parameter>\n</function>\n</tool_call>"
	}
	return `<tool_call>{"name": "write", "arguments": {"text": "` + pad + `"}}</tool_call>`
}

func feedPieces(p *Parser, text string, size int) []Event {
	var ev []Event
	for len(text) > 0 {
		n := min(size, len(text))
		ev = append(ev, p.Feed(text[:n])...)
		text = text[n:]
	}
	return ev
}

// TestHeldCallBound: a call is held back while it is well-formed, up to
// maxCallSize; past that its text is content, released without waiting for
// the end, and one-shot parsing agrees.
func TestHeldCallBound(t *testing.T) {
	for _, f := range []Format{FormatHermes, FormatLlama3, FormatMistral, FormatQwen3Coder} {
		t.Run(string(f), func(t *testing.T) {
			opts := Options{Format: f}
			fits := longCall(f, maxCallSize-200)
			p := NewParser(opts)
			ev := feedPieces(p, fits, 7)
			got := Collect(append(ev, p.Close()...))
			if got.Content != "" || len(got.ToolCalls) != 1 || len(got.ToolCalls[0].Arguments) < maxCallSize-200 {
				t.Fatalf("call under the bound: content %d bytes, %d calls", len(got.Content), len(got.ToolCalls))
			}
			if want := ParseOutput(fits, opts); !sameCalls(got, want) {
				t.Fatal("streamed call differs from ParseOutput")
			}

			over := longCall(f, maxCallSize+100)
			p = NewParser(opts)
			ev = feedPieces(p, over, 4096)
			released := len(Collect(ev).Content)
			got = Collect(append(ev, p.Close()...))
			if got.Content != over || len(got.ToolCalls) != 0 {
				t.Fatalf("call over the bound: %d calls, content %d of %d bytes", len(got.ToolCalls), len(got.Content), len(over))
			}
			if released < maxCallSize {
				t.Fatalf("only %d bytes released before Close", released)
			}
			if want := ParseOutput(over, opts); !sameCalls(got, want) {
				t.Fatal("streamed text differs from ParseOutput")
			}
		})
	}
}

func sameCalls(a, b Result) bool {
	if a.Content != b.Content || a.Reasoning != b.Reasoning || len(a.ToolCalls) != len(b.ToolCalls) {
		return false
	}
	for i := range a.ToolCalls {
		if a.ToolCalls[i].Name != b.ToolCalls[i].Name || string(a.ToolCalls[i].Arguments) != string(b.ToolCalls[i].Arguments) {
			return false
		}
	}
	return true
}

// TestMalformedCallReleasedEarly: text after a marker that cannot be a call
// is content as soon as the wrong byte arrives, not at the end.
func TestMalformedCallReleasedEarly(t *testing.T) {
	cases := []struct {
		format Format
		text   string
	}{
		{FormatHermes, "See <tool_call> for details"},
		{FormatHermes, `<tool_call>{"name": "f", "arguments": {"a": 1} x`},
		{FormatLlama3, `{"name": "f", "parameters": {"a": tru`},
		{FormatMistral, "[TOOL_CALLS]do it"},
		{FormatQwen3Coder, "<tool_call>\n<function=f\n"},
	}
	for _, c := range cases {
		t.Run(string(c.format), func(t *testing.T) {
			p := NewParser(Options{Format: c.format})
			got := Collect(p.Feed(c.text + " more"))
			if got.Content != c.text+" more" || len(got.ToolCalls) != 0 {
				t.Fatalf("after Feed: %+v", got)
			}
		})
	}
}

func BenchmarkStreamLongCall(b *testing.B) {
	text := longCall(FormatHermes, 64<<10)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		p := NewParser(Options{Format: FormatHermes})
		feedPieces(p, text, 4)
		p.Close()
	}
}

// TestCutCall: an output cut off inside a tool call (or its marker) loses the
// call, not the text before it; Close releases the same text as content.
func TestCutCall(t *testing.T) {
	for _, f := range []Format{FormatHermes, FormatLlama3, FormatMistral, FormatQwen3Coder} {
		call := longCall(f, 20)
		for _, cut := range []int{len(call) / 2, 3} {
			text := "Let me check. " + call[:cut]
			if f == FormatLlama3 {
				text = call[:cut] // Llama 3 calls are the whole output
			}
			t.Run(fmt.Sprintf("%s/%d", f, cut), func(t *testing.T) {
				opts := Options{Format: f}
				p := NewParser(opts)
				got := Collect(append(feedPieces(p, text, 5), p.Cut()...))
				want := strings.TrimSuffix(text, call[:cut])
				if got.Content != want || len(got.ToolCalls) != 0 {
					t.Fatalf("cut %q: content %q, %d calls; want content %q", text, got.Content, len(got.ToolCalls), want)
				}
				if closed := ParseOutput(text, opts); closed.Content != text {
					t.Fatalf("closed %q: content %q", text, closed.Content)
				}
			})
		}
	}
}

// TestCutInClosingTag: cut off inside the closing tag, the call is whole and
// the tag's start is not content.
func TestCutInClosingTag(t *testing.T) {
	for _, f := range []Format{FormatHermes, FormatQwen3Coder} {
		call := longCall(f, 20)
		p := NewParser(Options{Format: f})
		got := Collect(append(p.Feed("Checking. "+call[:len(call)-3]), p.Cut()...))
		if got.Content != "Checking. " || len(got.ToolCalls) != 1 {
			t.Errorf("%s: content %q, calls %+v", f, got.Content, got.ToolCalls)
		}
	}
}

// TestStreamedArguments: under a grammar (Constrained), a Hermes call's
// arguments are emitted as they arrive, and any split of the text gives the
// same result; another shape of call is still held back and decided whole.
func TestStreamedArguments(t *testing.T) {
	opts := Options{Format: FormatHermes, Constrained: true}
	text := "Sure. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}\n</tool_call>"
	p := NewParser(opts)
	var args int
	var evs []Event
	for i := range len(text) {
		got := p.Feed(text[i : i+1])
		for _, ev := range got {
			if ev.Kind == EventToolCallArgs {
				args++
			}
		}
		evs = append(evs, got...)
	}
	res := Collect(append(evs, p.Close()...))
	if res.Content != "Sure. " || len(res.ToolCalls) != 1 || res.ToolCalls[0].Name != "get_weather" ||
		string(res.ToolCalls[0].Arguments) != `{"city": "Paris", "days": [1, 2]}` || args < 10 {
		t.Fatalf("result %+v (%d argument events)", res, args)
	}
	for cut := range len(text) {
		checkSplits(t, text, cut, opts)
	}
	held := "<tool_call>{\"arguments\": {\"a\": 1}, \"name\": \"f\"}</tool_call>"
	if r := ParseOutput(held, opts); len(r.ToolCalls) != 1 || r.ToolCalls[0].Name != "f" || string(r.ToolCalls[0].Arguments) != `{"a": 1}` {
		t.Fatalf("arguments first: %+v", r)
	}
	// Cut off inside the arguments: the call keeps what was streamed.
	p = NewParser(opts)
	r := Collect(append(p.Feed(text[:len(text)-30]), p.Cut()...))
	if r.Content != "Sure. " || len(r.ToolCalls) != 1 || !strings.HasPrefix(`{"city": "Paris", "days": [1, 2]}`, string(r.ToolCalls[0].Arguments)) {
		t.Fatalf("cut: %+v", r)
	}
}
