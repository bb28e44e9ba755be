package chat

import (
	"strings"
)

// toolStage splits content into text and tool calls for one format. It is
// handed the unconsumed content each time and returns how many bytes it
// consumed; returning 0 means it waits for more text (or, when final, that
// it is finished). Decisions depend only on the text, never on how it was
// split, which keeps streaming and one-shot parsing identical.
type toolStage interface {
	process(buf string, final bool, e *emitter) int
}

func newToolStage(opts Options) toolStage {
	switch opts.Format {
	case FormatHermes:
		return &hermesStage{}
	case FormatLlama3:
		return &llamaStage{}
	case FormatMistral:
		return &mistralStage{}
	case FormatQwen3Coder:
		return &coderStage{strs: opts.StringParams}
	}
	return plainStage{}
}

type plainStage struct{}

func (plainStage) process(buf string, _ bool, e *emitter) int {
	e.add(EventContent, 0, buf)
	return len(buf)
}

// textUntil emits content up to tag and reports whether tag was found; the
// returned count consumes the tag. A possible partial tag is held back.
func textUntil(buf, tag string, final bool, e *emitter) (int, bool) {
	if i := strings.Index(buf, tag); i >= 0 {
		e.add(EventContent, 0, buf[:i])
		return i + len(tag), true
	}
	keep := 0
	if !final {
		keep = partialSuffix(buf, tag)
	}
	e.add(EventContent, 0, buf[:len(buf)-keep])
	return len(buf) - keep, false
}

// skipSeparator drops leading whitespace after a tool call. It reports
// wait when only whitespace has arrived so far: what follows decides nothing
// else, but the whitespace must not be emitted before text arrives.
func skipSeparator(buf string, final bool) (int, bool) {
	rest := strings.TrimLeft(buf, pyWhitespace)
	if rest == "" {
		return waitOrAll(buf, final), !final
	}
	return len(buf) - len(rest), false
}

// callEmit streams one JSON call object as its text grows.
type callEmit struct {
	started bool
	index   int
	sent    int // bytes of the arguments value already emitted
}

// sync emits the start once the name is known and any new argument bytes.
func (ce *callEmit) sync(s string, c callScan, e *emitter) {
	if !ce.started {
		if !c.nameDone {
			return
		}
		ce.index, ce.started = e.start(c.name), true
	}
	if c.argsStart >= 0 && c.argsEnd-c.argsStart > ce.sent {
		e.add(EventToolCallArgs, ce.index, s[c.argsStart+ce.sent:c.argsEnd])
		ce.sent = c.argsEnd - c.argsStart
	}
}

// finish closes the call; a call without arguments gets "{}".
func (ce *callEmit) finish(e *emitter) {
	if ce.started && ce.sent == 0 {
		e.add(EventToolCallArgs, ce.index, "{}")
	}
	*ce = callEmit{}
}

// streamObject advances a call object at the start of body. It returns the
// scan and whether the caller should wait for more text.
func (ce *callEmit) streamObject(body string, final bool, e *emitter) (callScan, bool) {
	c := scanCall(body)
	if c.bad {
		return c, false
	}
	ce.sync(body, c, e)
	return c, c.end < 0 && !final
}

// hermesStage parses <tool_call>{"name": .., "arguments": ..}</tool_call>.
type hermesStage struct {
	in        bool
	afterCall bool // drop whitespace that only separates calls
	call      callEmit
}

const hermesOpen, hermesClose = "<tool_call>", "</tool_call>"

func (h *hermesStage) process(buf string, final bool, e *emitter) int {
	if !h.in {
		if h.afterCall {
			if n, wait := skipSeparator(buf, final); wait || n > 0 {
				return n
			}
			h.afterCall = false
		}
		n, found := textUntil(buf, hermesOpen, final, e)
		h.in = found
		return n
	}
	body := strings.TrimLeft(buf, pyWhitespace)
	lead := len(buf) - len(body)
	c, wait := h.call.streamObject(body, final, e)
	if wait {
		return 0
	}
	if c.bad || (c.end >= 0 && !h.call.started) {
		// Not a call: pass the block through as text.
		j := strings.Index(buf, hermesClose)
		if j < 0 && !final {
			return 0
		}
		end := len(buf)
		if j >= 0 {
			end = j + len(hermesClose)
		}
		if !h.call.started {
			e.add(EventContent, 0, hermesOpen+buf[:end])
		}
		h.call.finish(e)
		h.in = false
		return end
	}
	if c.end < 0 { // final and incomplete
		h.call.finish(e)
		h.in = false
		return len(buf)
	}
	j := strings.Index(body[c.end:], hermesClose)
	if j < 0 && !final {
		return 0
	}
	h.call.finish(e)
	h.in, h.afterCall = false, true
	if j < 0 {
		return len(buf)
	}
	return lead + c.end + j + len(hermesClose)
}

// llamaStage parses Llama 3.x calls: the output is a JSON object
// {"name": .., "parameters": ..}, optionally after <|python_tag|>, possibly
// several separated by ";". Output that is not such an object is content.
type llamaStage struct {
	mode   int // llamaStart, llamaCall, llamaBetween, llamaText
	tagged bool
	call   callEmit
}

const (
	llamaStart = iota
	llamaCall
	llamaBetween
	llamaText
)

const pythonTag = "<|python_tag|>"

func (l *llamaStage) process(buf string, final bool, e *emitter) int {
	switch l.mode {
	case llamaStart, llamaBetween:
		rest := strings.TrimLeft(buf, pyWhitespace)
		lead := len(buf) - len(rest)
		switch {
		case rest == "" || !final && strings.HasPrefix(pythonTag, rest):
			if final && l.mode == llamaStart {
				e.add(EventContent, 0, buf)
			}
			if final {
				return len(buf)
			}
			return 0
		case strings.HasPrefix(rest, pythonTag):
			l.mode, l.tagged = llamaCall, true
			return lead + len(pythonTag)
		case rest[0] == '{':
			l.mode = llamaCall
			return lead + l.process(buf[lead:], final, e)
		case rest[0] == ';' && l.mode == llamaBetween:
			return lead + 1
		}
		l.mode = llamaText
		return l.process(buf, final, e)
	case llamaCall:
		return l.processCall(buf, final, e)
	}
	e.add(EventContent, 0, buf)
	return len(buf)
}

func (l *llamaStage) processCall(buf string, final bool, e *emitter) int {
	body := strings.TrimLeft(buf, pyWhitespace)
	lead := len(buf) - len(body)
	c := scanCall(body)
	commit := l.call.started || c.nameDone && (l.tagged || c.argsStart >= 0)
	if commit && !c.bad {
		l.call.sync(body, c, e)
	}
	switch {
	case c.bad && l.call.started:
		// The call turned out malformed after it was announced; drop it.
		l.call.finish(e)
		l.mode = llamaText
		return len(buf)
	case c.bad:
		l.mode = llamaText
		return l.process(buf, final, e)
	case c.end < 0 && !final:
		return 0
	case c.end < 0:
		if !l.call.started {
			e.add(EventContent, 0, buf)
		}
		l.call.finish(e)
		l.mode = llamaText
		return len(buf)
	}
	if !l.call.started {
		e.add(EventContent, 0, buf[:lead+c.end])
		l.mode = llamaText
		return lead + c.end
	}
	l.call.finish(e)
	l.mode, l.tagged = llamaBetween, false
	return lead + c.end
}
