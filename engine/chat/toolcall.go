package chat

import (
	"encoding/json"
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
		return &hermesStage{stream: opts.Constrained}
	case FormatLlama3:
		return &llamaStage{}
	case FormatMistral:
		return &mistralStage{}
	case FormatQwen3Coder:
		return &coderStage{strs: opts.StringParams}
	case FormatHarmony:
		return &harmonyStage{}
	}
	return plainStage{}
}

type plainStage struct{}

func (plainStage) process(buf string, _ bool, e *emitter) int {
	e.add(EventContent, 0, buf)
	return len(buf)
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

// markerAt emits the text before tag and returns its length; found says
// the tag follows. Without the tag, a possible partial tag is held back.
func markerAt(buf, tag string, final bool, e *emitter) (int, bool) {
	if i := strings.Index(buf, tag); i >= 0 {
		e.add(EventContent, 0, buf[:i])
		return i, true
	}
	n := len(buf)
	if !final {
		n -= partialSuffix(buf, tag)
	} else if e.cut {
		// Cut off inside the marker: the start of a call, not text.
		e.add(EventContent, 0, buf[:n-partialSuffix(buf, tag)])
		return n, false
	}
	e.add(EventContent, 0, buf[:n])
	return n, false
}

// waitOrAll waits for more text, or consumes the (whitespace) rest at the end.
func waitOrAll(buf string, final bool) int {
	if final {
		return len(buf)
	}
	return 0
}

// callParts reads a complete, valid JSON object as a call. The name must be
// a non-empty string; the arguments ("arguments" or "parameters") must be an
// object, or a string holding one (some models encode them twice). A call
// without arguments gets "{}" unless needArgs.
func callParts(obj string, needArgs bool) (name, args string, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(obj), &m) != nil || json.Unmarshal(m["name"], &name) != nil || name == "" {
		return "", "", false
	}
	raw, has := m["arguments"]
	if !has {
		raw, has = m["parameters"]
	}
	switch {
	case !has:
		return name, "{}", !needArgs
	case raw[0] == '{':
		return name, string(raw), true
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil && isObject(s) {
			return name, strings.Trim(s, jsonSpace), true
		}
	}
	return "", "", false
}

// isObject reports whether s is one JSON object.
func isObject(s string) bool {
	var j jsonScan
	return j.feed(s) == scanDone && strings.TrimLeft(s[j.end:], jsonSpace) == ""
}

// heldValue advances the scan of the JSON value held in buf after skip
// bytes. scanMore: wait for more text; scanDone: the value ends at end;
// scanBad: buf[:end] is content, up to the wrong byte; scanCut: the output
// ended first, and buf (end is all of it) is released with e.unfinished.
func heldValue(j *jsonScan, buf string, skip int, final bool) (end int, res scanResult) {
	switch j.feed(buf[skip:]) {
	case scanDone:
		return skip + j.end, scanDone
	case scanBad:
		return skip + j.pos, scanBad
	}
	if final {
		return len(buf), scanCut
	}
	return 0, scanMore
}

// emitCall emits a decided call.
func emitCall(e *emitter, name, args string) {
	e.add(EventToolCallArgs, e.start(name), args)
}

// hermesStage parses <tool_call>{"name": .., "arguments": ..}</tool_call>.
// The text from the marker on is held back until the object closes (then
// it is a call) or breaks (then the marker and the text up to the break are
// content); the closing tag is optional.
type hermesStage struct {
	mode      int  // hermesText, hermesCall, hermesAfter, hermesArgs, hermesTail
	afterCall bool // drop whitespace that only separates calls
	scan      jsonScan
	stream    bool // Options.Constrained: stream the arguments (hermesArgs)
	sent      int  // bytes of the streamed arguments emitted so far
	call      int  // index of the streamed call
}

const (
	hermesText = iota
	hermesCall
	hermesAfter
	hermesArgs // inside the arguments of a call being streamed
	hermesTail // after them: the call object's closing brace
)

const hermesOpen, hermesClose = "<tool_call>", "</tool_call>"

func (h *hermesStage) process(buf string, final bool, e *emitter) int {
	switch h.mode {
	case hermesCall:
		return h.processCall(buf, final, e)
	case hermesArgs:
		return h.processArgs(buf, final, e)
	case hermesTail:
		rest := strings.TrimLeft(buf, pyWhitespace)
		switch {
		case strings.HasPrefix(rest, "}"):
			h.mode = hermesAfter
			return len(buf) - len(rest) + 1
		case rest == "" && !final:
			return 0
		}
		h.mode, h.afterCall = hermesText, false // not the call's end: text, as after any call
		return h.process(buf, final, e)
	case hermesAfter:
		rest := strings.TrimLeft(buf, pyWhitespace)
		lead := len(buf) - len(rest)
		switch {
		case strings.HasPrefix(rest, hermesClose):
			h.mode, h.afterCall = hermesText, true
			return lead + len(hermesClose)
		case !final && strings.HasPrefix(hermesClose, rest):
			return 0
		case e.cut && strings.HasPrefix(hermesClose, rest):
			return len(buf) // cut off inside the closing tag: the call is whole
		}
		h.mode, h.afterCall = hermesText, true
		return h.process(buf, final, e)
	}
	if h.afterCall {
		if n, wait := skipSeparator(buf, final); wait || n > 0 {
			return n
		}
		h.afterCall = false
	}
	n, found := markerAt(buf, hermesOpen, final, e)
	if !found {
		return n
	}
	h.mode, h.scan = hermesCall, jsonScan{}
	return n + h.processCall(buf[n:], final, e)
}

// processCall decides the call held in buf, which starts at the marker.
func (h *hermesStage) processCall(buf string, final bool, e *emitter) int {
	if h.stream {
		name, n, res := hermesHead(buf[len(hermesOpen):])
		switch {
		case res == scanMore && !final:
			return 0
		case res == scanDone:
			h.mode, h.scan, h.sent, h.call = hermesArgs, jsonScan{}, 0, e.start(name)
			return len(hermesOpen) + n
		}
		h.scan = jsonScan{} // another shape: held back and decided whole
	}
	end, res := heldValue(&h.scan, buf, len(hermesOpen), final)
	switch res {
	case scanMore:
		return 0
	case scanDone:
		if name, args, ok := callParts(buf[len(hermesOpen)+h.scan.start:end], false); ok {
			emitCall(e, name, args)
			h.mode = hermesAfter
			return end
		}
	case scanCut:
		e.unfinished(buf)
		h.mode, h.afterCall = hermesText, false
		return end
	}
	e.add(EventContent, 0, buf[:end])
	h.mode, h.afterCall = hermesText, false
	return end
}

// processArgs emits the arguments of a streamed call as far as they are
// scanned; buf starts at their '{' and is consumed once they are complete.
func (h *hermesStage) processArgs(buf string, final bool, e *emitter) int {
	res := h.scan.feed(buf)
	upto := h.scan.pos
	if res == scanDone {
		upto = h.scan.end
	}
	e.add(EventToolCallArgs, h.call, buf[h.sent:upto])
	h.sent = upto
	switch {
	case res == scanDone:
		h.mode = hermesTail
		return upto
	case res == scanMore && !final:
		return 0
	}
	// Cut off (or, against the grammar, malformed): the call keeps what it
	// has, and the rest is text.
	h.mode, h.afterCall = hermesText, false
	return upto
}

// hermesHead reads the start of a Hermes call object up to its arguments,
// {"name": "f", "arguments": , as the tool grammars write it; n is its
// length (the arguments' '{' is next). scanBad: another shape.
func hermesHead(s string) (name string, n int, res scanResult) {
	ws := func() {
		for n < len(s) && isJSONSpace(s[n]) {
			n++
		}
	}
	lit := func(l string) scanResult {
		ws()
		rest := s[n:]
		switch {
		case strings.HasPrefix(rest, l):
			n += len(l)
			return scanDone
		case strings.HasPrefix(l, rest):
			return scanMore
		}
		return scanBad
	}
	for _, l := range []string{"{", `"name"`, ":", `"`} {
		if r := lit(l); r != scanDone {
			return "", 0, r
		}
	}
	start := n
	for n < len(s) && s[n] != '"' {
		if c := s[n]; !(c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", 0, scanBad
		}
		n++
	}
	if n == len(s) {
		return "", 0, scanMore
	}
	name = s[start:n]
	n++
	if name == "" {
		return "", 0, scanBad
	}
	for _, l := range []string{",", `"arguments"`, ":"} {
		if r := lit(l); r != scanDone {
			return "", 0, r
		}
	}
	ws()
	switch {
	case n == len(s):
		return "", 0, scanMore
	case s[n] != '{':
		return "", 0, scanBad
	}
	return name, n, scanDone
}

// llamaStage parses Llama 3.x calls: the output is a JSON object
// {"name": .., "parameters": ..}, optionally after <|python_tag|>, possibly
// several separated by ";". Each object is held back until it is decided;
// output that is not such an object is content.
type llamaStage struct {
	mode   int // llamaStart, llamaCall, llamaBetween, llamaText
	skip   int // whitespace and tag before the held object
	tagged bool
	scan   jsonScan
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
		case e.cut && strings.HasPrefix(pythonTag, rest):
			return len(buf) // cut off inside the tag: the start of a call, not text
		case strings.HasPrefix(rest, pythonTag):
			l.mode, l.skip, l.tagged, l.scan = llamaCall, lead+len(pythonTag), true, jsonScan{}
			return l.processCall(buf, final, e)
		case rest[0] == '{':
			l.mode, l.skip, l.tagged, l.scan = llamaCall, lead, false, jsonScan{}
			return l.processCall(buf, final, e)
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

// processCall decides the object held in buf after l.skip bytes. Without
// the tag an object is a call only if it has parameters: a JSON answer
// with a "name" field stays content.
func (l *llamaStage) processCall(buf string, final bool, e *emitter) int {
	end, res := heldValue(&l.scan, buf, l.skip, final)
	switch res {
	case scanMore:
		return 0
	case scanDone:
		if name, args, ok := callParts(buf[l.skip+l.scan.start:end], !l.tagged); ok {
			emitCall(e, name, args)
			l.mode = llamaBetween
			return end
		}
	case scanCut:
		if l.tagged { // untagged, the object may as well be a JSON answer
			e.unfinished(buf)
			l.mode = llamaText
			return end
		}
	}
	e.add(EventContent, 0, buf[:end])
	l.mode = llamaText
	return end
}
