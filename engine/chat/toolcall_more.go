package chat

import (
	"encoding/json"
	"strings"
)

// mistralStage parses [TOOL_CALLS][{"name":..,"arguments":..}, ...] and the
// newer [TOOL_CALLS]name[ARGS]{...} (optionally name[CALL_ID]id[ARGS]{...}).
// The text from the tag on is held back until the whole array, or the
// arguments object, is decided; a malformed one is content, tag included.
type mistralStage struct {
	inCall bool
	head   int    // offset of the JSON value after the tag, 0 until known
	name   string // the name before [ARGS]; "" for the JSON form
	scan   jsonScan
}

const mistralTag, mistralArgsTag, mistralIDTag = "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"

// maxMistralHead bounds the text between [TOOL_CALLS] and the JSON value.
const maxMistralHead = 512

func (m *mistralStage) process(buf string, final bool, e *emitter) int {
	if m.inCall {
		return m.processCall(buf, final, e)
	}
	n, found := markerAt(buf, mistralTag, final, e)
	if !found {
		return n
	}
	m.inCall, m.head, m.name, m.scan = true, 0, "", jsonScan{}
	return n + m.processCall(buf[n:], final, e)
}

// processCall decides the call held in buf, which starts at the tag.
func (m *mistralStage) processCall(buf string, final bool, e *emitter) int {
	end := -1
	if m.head == 0 {
		name, n, res := mistralHead(buf[len(mistralTag):])
		switch res {
		case scanMore:
			if !final {
				return 0
			}
			e.unfinished(buf)
			m.inCall = false
			return len(buf)
		case scanBad:
			end = len(mistralTag) + n
		default:
			m.head, m.name = len(mistralTag)+n, name
			m.scan.arrays = name == ""
		}
	}
	if end < 0 {
		var res scanResult
		switch end, res = heldValue(&m.scan, buf, m.head, final); res {
		case scanMore:
			return 0
		case scanDone:
			if m.emitCalls(buf[m.head+m.scan.start:end], e) {
				m.inCall = false
				return end
			}
		case scanCut:
			e.unfinished(buf)
			m.inCall = false
			return end
		}
	}
	e.add(EventContent, 0, buf[:end])
	m.inCall = false
	return end
}

// emitCalls emits the calls of a complete JSON value and reports whether it
// was one: an arguments object after [ARGS], or a call object or an array
// of them after the bare tag.
func (m *mistralStage) emitCalls(value string, e *emitter) bool {
	if m.name != "" {
		emitCall(e, m.name, value)
		return true
	}
	objs := []json.RawMessage{json.RawMessage(value)}
	if value[0] == '[' && json.Unmarshal([]byte(value), &objs) != nil {
		return false
	}
	type call struct{ name, args string }
	calls := make([]call, 0, len(objs))
	for _, o := range objs {
		name, args, ok := callParts(string(o), false)
		if !ok {
			return false
		}
		calls = append(calls, call{name, args})
	}
	for _, c := range calls {
		emitCall(e, c.name, c.args)
	}
	return true
}

// mistralHead reads what follows [TOOL_CALLS] up to the JSON value: either
// nothing but whitespace (the array form, name "") or name[ARGS] with an
// optional [CALL_ID]id. n is the value's offset, or the first wrong byte.
func mistralHead(s string) (name string, n int, res scanResult) {
	name, n, res = mistralHeadIn(s[:min(len(s), maxMistralHead)])
	if res == scanMore && len(s) >= maxMistralHead {
		return "", maxMistralHead, scanBad
	}
	return name, n, res
}

func mistralHeadIn(s string) (string, int, scanResult) {
	i := len(s) - len(strings.TrimLeft(s, jsonSpace))
	j := i
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	switch {
	case j == len(s):
		return "", 0, scanMore
	case j == i && (s[i] == '[' || s[i] == '{'):
		return "", i, scanDone
	case j == i:
		return "", i, scanBad
	}
	name, rest := s[i:j], s[j:]
	if strings.HasPrefix(rest, mistralIDTag) {
		j += len(mistralIDTag)
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		rest = s[j:]
	}
	switch {
	case strings.HasPrefix(rest, mistralArgsTag):
		return name, j + len(mistralArgsTag), scanDone
	case strings.HasPrefix(mistralArgsTag, rest) || strings.HasPrefix(mistralIDTag, rest):
		return "", 0, scanMore
	}
	return "", j, scanBad
}

// isNameByte accepts the bytes of function names and call ids.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
}
