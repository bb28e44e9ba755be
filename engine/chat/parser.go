package chat

import (
	"encoding/json"
	"strings"
)

// EventKind says what an Event carries.
type EventKind int

const (
	EventContent       EventKind = iota // Text is a content delta
	EventReasoning                      // Text is a reasoning delta
	EventToolCallStart                  // a tool call begins: Index, Name
	EventToolCallArgs                   // Text is a fragment of the arguments JSON of call Index
	EventDone                           // the output ended; nothing follows
)

// Event is one step of a parsed output stream.
type Event struct {
	Kind  EventKind
	Text  string
	Index int
	Name  string
}

// Options choose how output is parsed.
type Options struct {
	Format Format
	// Reasoning splits <think>...</think> at the start of the output into
	// reasoning text.
	Reasoning bool
	// InReasoning means the prompt already opened <think>, so the output
	// starts inside the reasoning block (see StartsInReasoning).
	InReasoning bool
	// StringParams lists, per function, the parameters whose schema type is
	// string. Qwen3-Coder writes parameter values as bare text; these stay
	// strings even when they look like JSON (a postcode such as 75001).
	StringParams map[string]map[string]bool
	// Constrained says a grammar makes every call the output starts a
	// well-formed one (the engine's tool grammars): then a Hermes call's
	// arguments are emitted as they are generated, as OpenAI streams them,
	// instead of held back until the call is decided.
	Constrained bool
}

// Result is a fully parsed output.
type Result struct {
	Content   string
	Reasoning string
	ToolCalls []ToolCall
}

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// Parser turns generated text, fed in arbitrary pieces, into events. Text
// that might be the start of a tag, or a tool call not yet complete, is held
// back until it is decided, so nothing is emitted and later found to be
// something else. Concatenating the events gives the same Result for any
// split of the same text.
// A Parser is not safe for concurrent use.
type Parser struct {
	think thinkState
	raw   string // text not yet consumed by the reasoning stage
	tools toolStage
	cbuf  textBuf // content not yet consumed by the tool stage
	out   emitter
	done  bool
}

type thinkState int

const (
	thinkStart thinkState = iota // leading whitespace, <think> may follow
	thinkLead                    // inside <think>, dropping leading whitespace
	thinkIn                      // inside <think>
	thinkAfter                   // after </think>, dropping whitespace
	thinkOff                     // plain content
)

// NewParser returns a parser for one output stream.
func NewParser(opts Options) *Parser {
	p := &Parser{tools: newToolStage(opts)}
	switch {
	case opts.Format == FormatHarmony:
		p.think = thinkOff // the harmony stage reads the analysis channel
	case opts.InReasoning:
		p.think = thinkLead
	case opts.Reasoning:
		p.think = thinkStart
	default:
		p.think = thinkOff
	}
	return p
}

// Feed parses the next piece of output.
func (p *Parser) Feed(delta string) []Event {
	if p.done {
		return nil
	}
	p.raw += delta
	p.run(false)
	return p.out.take()
}

// Close ends the stream: held-back text is decided and EventDone is last.
func (p *Parser) Close() []Event {
	if p.done {
		return nil
	}
	p.run(true)
	p.done = true
	p.out.events = append(p.out.events, Event{Kind: EventDone})
	return p.out.take()
}

// Cut is Close for an output cut off by a token limit: a tool call it ended
// inside is dropped instead of released as content. The model was writing a
// call, not text for the reader, and its arguments are incomplete; the answer
// says it was cut (finish reason "length").
func (p *Parser) Cut() []Event {
	p.out.cut = true
	return p.Close()
}

func (p *Parser) run(final bool) {
	for {
		n := p.reason(final)
		p.raw = p.raw[n:]
		if n == 0 {
			break
		}
	}
	for {
		n := p.tools.process(p.cbuf.rest(), final, &p.out)
		p.cbuf.drop(n)
		if n == 0 {
			break
		}
	}
}

// textBuf is text not yet consumed. Appending is amortized and rest does
// not copy, so a call held back over many small deltas costs linear time.
type textBuf struct {
	b   strings.Builder
	off int // bytes of b consumed
}

func (t *textBuf) add(s string) { t.b.WriteString(s) }

func (t *textBuf) rest() string { return t.b.String()[t.off:] }

func (t *textBuf) drop(n int) {
	t.off += n
	if t.off > 4096 && t.off > t.b.Len()/2 {
		rest := t.rest() // stays valid: a Builder never rewrites what it returned
		t.b = strings.Builder{}
		t.b.WriteString(rest)
		t.off = 0
	}
}

// reason advances the reasoning stage over p.raw, returning bytes consumed.
func (p *Parser) reason(final bool) int {
	buf := p.raw
	if buf == "" {
		return 0
	}
	switch p.think {
	case thinkStart:
		rest := strings.TrimLeft(buf, pyWhitespace)
		switch {
		case strings.HasPrefix(rest, thinkOpen):
			p.think = thinkLead
			return len(buf) - len(rest) + len(thinkOpen)
		case !final && strings.HasPrefix(thinkOpen, rest):
			return 0
		}
		p.think = thinkOff
		return p.reason(final)
	case thinkLead, thinkAfter:
		rest := strings.TrimLeft(buf, pyWhitespace)
		if rest == "" {
			return len(buf)
		}
		if p.think == thinkLead {
			p.think = thinkIn
		} else {
			p.think = thinkOff
		}
		if len(rest) == len(buf) {
			return p.reason(final) // state changed, nothing to drop
		}
		return len(buf) - len(rest)
	case thinkIn:
		if i := strings.Index(buf, thinkClose); i >= 0 {
			p.out.add(EventReasoning, 0, strings.TrimRight(buf[:i], pyWhitespace))
			p.think = thinkAfter
			return i + len(thinkClose)
		}
		keep := 0
		if !final {
			keep = partialSuffix(buf, thinkClose)
			keep += len(buf[:len(buf)-keep]) - len(strings.TrimRight(buf[:len(buf)-keep], pyWhitespace))
		}
		p.out.add(EventReasoning, 0, buf[:len(buf)-keep])
		return len(buf) - keep
	default:
		p.cbuf.add(buf)
		return len(buf)
	}
}

// partialSuffix returns the length of the longest suffix of s that is a
// proper prefix of tag: text that may become the tag with more input.
func partialSuffix(s, tag string) int {
	for n := min(len(s), len(tag)-1); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}

// emitter collects events, merging adjacent deltas of the same kind.
type emitter struct {
	events []Event
	calls  int  // tool calls started so far
	cut    bool // the output was cut off: see Parser.Cut
}

// unfinished releases a tool call the output ended inside: as content, unless
// the output was cut off, when it is dropped (see Parser.Cut).
func (e *emitter) unfinished(text string) {
	if !e.cut {
		e.add(EventContent, 0, text)
	}
}

func (e *emitter) add(kind EventKind, index int, text string) {
	if text == "" {
		return
	}
	if n := len(e.events); n > 0 && e.events[n-1].Kind == kind && e.events[n-1].Index == index {
		e.events[n-1].Text += text
		return
	}
	e.events = append(e.events, Event{Kind: kind, Index: index, Text: text})
}

// start begins a tool call and returns its index.
func (e *emitter) start(name string) int {
	i := e.calls
	e.calls++
	e.events = append(e.events, Event{Kind: EventToolCallStart, Index: i, Name: name})
	return i
}

func (e *emitter) take() []Event {
	ev := e.events
	e.events = nil
	return ev
}

// Collect assembles events into a Result.
func Collect(events []Event) Result {
	var r Result
	var content, reasoning strings.Builder
	var args []strings.Builder
	for _, ev := range events {
		switch ev.Kind {
		case EventContent:
			content.WriteString(ev.Text)
		case EventReasoning:
			reasoning.WriteString(ev.Text)
		case EventToolCallStart:
			r.ToolCalls = append(r.ToolCalls, ToolCall{Name: ev.Name})
			args = append(args, strings.Builder{})
		case EventToolCallArgs:
			if ev.Index < len(args) {
				args[ev.Index].WriteString(ev.Text)
			}
		}
	}
	r.Content, r.Reasoning = content.String(), reasoning.String()
	for i := range r.ToolCalls {
		r.ToolCalls[i].Arguments = json.RawMessage(args[i].String())
	}
	return r
}

// ParseOutput parses a complete output; it gives what streaming the same text
// through a Parser and collecting the events gives.
func ParseOutput(text string, opts Options) Result {
	p := NewParser(opts)
	ev := p.Feed(text)
	return Collect(append(ev, p.Close()...))
}
