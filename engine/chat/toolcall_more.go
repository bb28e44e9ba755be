package chat

import (
	"bytes"
	"encoding/json"
	"strings"
)

// mistralStage parses [TOOL_CALLS][{"name":..,"arguments":..}, ...] and the
// newer [TOOL_CALLS]name[ARGS]{...} (optionally name[CALL_ID]id[ARGS]{...}).
type mistralStage struct {
	mode  int // mistralText, mistralAfterTag, mistralArray, mistralName, mistralArgs
	call  callEmit
	index int // call whose [ARGS] value is streaming
	sent  int
}

const (
	mistralText = iota
	mistralAfterTag
	mistralArray
	mistralName
	mistralArgs
)

const mistralTag, mistralArgsTag, mistralIDTag = "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"

func (m *mistralStage) process(buf string, final bool, e *emitter) int {
	rest := strings.TrimLeft(buf, pyWhitespace)
	lead := len(buf) - len(rest)
	switch m.mode {
	case mistralText:
		n, found := textUntil(buf, mistralTag, final, e)
		if found {
			m.mode = mistralAfterTag
		}
		return n
	case mistralAfterTag:
		switch {
		case rest == "":
			return waitOrAll(buf, final)
		case rest[0] == '[':
			m.mode = mistralArray
			return lead + 1
		}
		m.mode = mistralName
		return lead + m.process(buf[lead:], final, e)
	case mistralArray:
		return m.processArray(buf, rest, lead, final, e)
	case mistralName:
		i := strings.Index(buf, mistralArgsTag)
		if i < 0 {
			if !final {
				return 0
			}
			e.add(EventContent, 0, buf)
			m.mode = mistralText
			return len(buf)
		}
		name, _, _ := strings.Cut(buf[:i], mistralIDTag)
		m.index, m.sent, m.mode = e.start(strings.TrimSpace(name)), 0, mistralArgs
		return i + len(mistralArgsTag)
	}
	// mistralArgs: stream the JSON value after [ARGS].
	if m.sent == 0 && lead > 0 {
		return lead
	}
	n, done, ok := valueEnd(buf)
	if !ok {
		n, done = 0, true
	}
	if n > m.sent {
		e.add(EventToolCallArgs, m.index, buf[m.sent:n])
		m.sent = n
	}
	if !done && !final {
		return 0
	}
	if m.sent == 0 {
		e.add(EventToolCallArgs, m.index, "{}")
	}
	m.mode = mistralText
	if n == 0 {
		return m.process(buf, final, e)
	}
	return n
}

func (m *mistralStage) processArray(buf, rest string, lead int, final bool, e *emitter) int {
	switch {
	case rest == "":
		return waitOrAll(buf, final)
	case rest[0] == ',':
		return lead + 1
	case rest[0] == ']':
		m.mode = mistralText
		return lead + 1
	case rest[0] != '{':
		m.call.finish(e)
		m.mode = mistralText
		return lead + m.process(buf[lead:], final, e)
	}
	c, wait := m.call.streamObject(rest, final, e)
	if wait {
		return 0
	}
	m.call.finish(e)
	if c.bad || c.end < 0 {
		m.mode = mistralText
		return len(buf)
	}
	return lead + c.end
}

// waitOrAll waits for more text, or consumes the (whitespace) rest at the end.
func waitOrAll(buf string, final bool) int {
	if final {
		return len(buf)
	}
	return 0
}

// coderStage parses the Qwen3-Coder XML form. Parameter values become a
// JSON object; a value that is valid JSON (number, bool, object) is kept as
// JSON, anything else becomes a string.
type coderStage struct {
	mode      int // coderText, coderCall, coderFunc
	index     int
	params    int
	afterCall bool
	strs      map[string]map[string]bool // string-typed parameters by function
	fn        string                     // the open function
}

const (
	coderText = iota
	coderCall
	coderFunc
)

const (
	coderFuncOpen   = "<function="
	coderFuncClose  = "</function>"
	coderParamOpen  = "<parameter="
	coderParamClose = "</parameter>"
)

func (c *coderStage) process(buf string, final bool, e *emitter) int {
	rest := strings.TrimLeft(buf, pyWhitespace)
	lead := len(buf) - len(rest)
	switch c.mode {
	case coderText:
		if c.afterCall {
			if n, wait := skipSeparator(buf, final); wait || n > 0 {
				return n
			}
			c.afterCall = false
		}
		n, found := textUntil(buf, hermesOpen, final, e)
		if found {
			c.mode = coderCall
		}
		return n
	case coderCall:
		switch {
		case strings.HasPrefix(rest, coderFuncOpen):
			j := strings.IndexByte(rest, '>')
			if j < 0 {
				return waitOrAll(buf, final)
			}
			c.fn = rest[len(coderFuncOpen):j]
			c.index, c.params, c.mode = e.start(c.fn), 0, coderFunc
			e.add(EventToolCallArgs, c.index, "{")
			return lead + j + 1
		case strings.HasPrefix(rest, hermesClose):
			c.mode, c.afterCall = coderText, true
			return lead + len(hermesClose)
		case !final && (rest == "" || strings.HasPrefix(coderFuncOpen, rest) || strings.HasPrefix(hermesClose, rest)):
			return 0
		}
		c.mode = coderText
		return lead + c.process(buf[lead:], final, e)
	}
	return c.processFunc(buf, rest, lead, final, e)
}

func (c *coderStage) processFunc(buf, rest string, lead int, final bool, e *emitter) int {
	switch {
	case strings.HasPrefix(rest, coderFuncClose):
		e.add(EventToolCallArgs, c.index, "}")
		c.mode = coderCall
		return lead + len(coderFuncClose)
	case strings.HasPrefix(rest, coderParamOpen):
		j := strings.IndexByte(rest, '>')
		if j < 0 {
			return c.endOrWait(buf, final, e)
		}
		val := rest[j+1:]
		end, skip := -1, 0
		for _, stop := range []string{coderParamClose, coderParamOpen, coderFuncClose} {
			if k := strings.Index(val, stop); k >= 0 && (end < 0 || k < end) {
				end, skip = k, 0
				if stop == coderParamClose {
					skip = len(stop)
				}
			}
		}
		if end < 0 {
			if !final {
				return 0
			}
			end = len(val)
		}
		sep := ""
		if c.params > 0 {
			sep = ", "
		}
		c.params++
		name := rest[len(coderParamOpen):j]
		e.add(EventToolCallArgs, c.index, sep+quoteJSON(name)+": "+paramJSON(val[:end], c.strs[c.fn][name]))
		return lead + j + 1 + end + skip
	case !final && (rest == "" || strings.HasPrefix(coderFuncClose, rest) || strings.HasPrefix(coderParamOpen, rest)):
		return 0
	}
	if rest != "" {
		if i := strings.IndexByte(rest[1:], '<'); i >= 0 {
			return lead + 1 + i // skip stray text inside the function
		}
	}
	return c.endOrWait(buf, final, e)
}

func (c *coderStage) endOrWait(buf string, final bool, e *emitter) int {
	if !final {
		return 0
	}
	e.add(EventToolCallArgs, c.index, "}")
	c.mode = coderText
	return len(buf)
}

// paramJSON converts an XML parameter value to JSON; text is a parameter
// the schema types as a string.
func paramJSON(v string, text bool) string {
	v = strings.TrimPrefix(v, "\n")
	v = strings.TrimSuffix(v, "\n")
	if t := strings.TrimSpace(v); !text && t != "" && !strings.HasPrefix(t, `"`) && json.Valid([]byte(t)) {
		return t
	}
	return quoteJSON(v)
}

func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
