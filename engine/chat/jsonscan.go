package chat

import "strings"

// valueEnd scans the JSON value at the start of s (no leading whitespace).
// It returns the value's length and whether it is complete; ok is false
// when s cannot start a JSON value. For an incomplete value, n is len(s).
// Only structure is checked (strings, escapes, bracket nesting); the
// arguments text is passed on as the model wrote it.
func valueEnd(s string) (n int, complete, ok bool) {
	if s == "" {
		return 0, false, true
	}
	switch s[0] {
	case '{', '[', '"':
	default:
		// A bare literal (number, true, null) ends at a delimiter.
		i := strings.IndexAny(s, ",}] \t\r\n")
		if i < 0 {
			return len(s), false, true
		}
		return i, i > 0, i > 0
	}
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if depth == 0 {
					return i + 1, true, true
				}
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1, true, true
			}
			if depth < 0 {
				return i, false, false
			}
		}
	}
	return len(s), false, true
}

// callScan is what is known so far about a tool call object
// {"name": ..., "arguments": ...} whose text is at the start of a buffer.
type callScan struct {
	name      string
	nameDone  bool
	argsStart int  // offset of the arguments value, -1 until its key is read
	argsEnd   int  // end of the arguments bytes available so far
	argsDone  bool // the arguments value is complete
	end       int  // offset just past the closing brace, -1 if incomplete
	bad       bool // not a call object
}

// argKeys name the arguments member in the families we parse.
var argKeys = map[string]bool{"arguments": true, "parameters": true}

// scanCall re-scans a call object from the start of s. It is called on a
// growing buffer, which keeps the result independent of how text arrived.
func scanCall(s string) callScan {
	c := callScan{argsStart: -1, end: -1}
	if !strings.HasPrefix(s, "{") {
		c.bad = s != ""
		return c
	}
	i := 1
	for {
		i = skipWS(s, i)
		if i >= len(s) {
			return c
		}
		if s[i] == '}' {
			c.end = i + 1
			return c
		}
		if s[i] == ',' {
			i++
			continue
		}
		if s[i] != '"' {
			c.bad = true
			return c
		}
		kn, done, _ := valueEnd(s[i:])
		if !done {
			return c
		}
		key := jsonUnquote(s[i : i+kn])
		i = skipWS(s, i+kn)
		if i >= len(s) {
			return c
		}
		if s[i] != ':' {
			c.bad = true
			return c
		}
		i = skipWS(s, i+1)
		vn, done, ok := valueEnd(s[i:])
		if !ok {
			c.bad = true
			return c
		}
		switch {
		case argKeys[key] && c.argsStart < 0:
			c.argsStart, c.argsEnd, c.argsDone = i, i+vn, done
		case key == "name" && done && strings.HasPrefix(s[i:], `"`):
			c.name, c.nameDone = jsonUnquote(s[i:i+vn]), true
		}
		if !done {
			return c
		}
		i += vn
	}
}

func skipWS(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

// jsonUnquote decodes a complete JSON string literal.
func jsonUnquote(lit string) string {
	v, err := jsonValue([]byte(lit))
	if err != nil || !v.IsString() {
		return strings.Trim(lit, `"`)
	}
	return v.AsString()
}
