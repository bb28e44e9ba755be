package route

// A routed request's body is read twice on the front daemon: for its model
// (which backend) and for the members the router rewrites. jsontext's decoder
// and encoding/json took a dozen allocations and two passes of their own for
// that on every request (issue #24). quickTop reads a plain body in one pass
// without allocating; anything it is unsure of goes the careful way.

// quickTop is decodeTop for a body it can read with certainty: one JSON object
// whose member names hold no escapes, with no \u escape of a surrogate, no
// deeper than maxQuickDepth. ok is false for anything else, valid or not:
// decodeTop then reads it and says what is wrong. foldModel reports a
// top-level name that is "model" but for case ("Model"), which encoding/json
// would read as the model.
func quickTop(body []byte) (f topFields, foldModel, ok bool) {
	s := quickScan{b: body}
	s.space()
	if !s.byte('{') {
		return f, false, false
	}
	f.open = int64(s.i)
	f.empty = true
	s.space()
	if s.byte('}') {
		return f, false, s.end()
	}
	for {
		s.space()
		nameStart := s.i
		if !s.name() {
			return f, false, false
		}
		name := body[nameStart+1 : s.i-1]
		s.space()
		if !s.byte(':') {
			return f, false, false
		}
		s.space()
		start := s.i
		if !s.value(0) {
			return f, false, false
		}
		f.empty = false
		var field *span
		switch string(name) {
		case "model":
			field = &f.model
		case "stream":
			field = &f.stream
		case "stream_options":
			field = &f.streamOptions
		default:
			foldModel = foldModel || len(name) == len("model") && equalFoldASCII(name, "model")
		}
		if field != nil {
			if field.found() {
				f.repeated = true
			}
			*field = span{start: int64(start), end: int64(s.i)}
		}
		s.space()
		if s.byte('}') {
			return f, foldModel, s.end()
		}
		if !s.byte(',') {
			return f, false, false
		}
	}
}

// quickModel is ModelOf for a body quickTop reads whose model, if any, is a
// plain string: ASCII without escapes, as encoding/json would give it back.
func quickModel(body []byte) (model string, ok bool) {
	f, foldModel, ok := quickTop(body)
	if !ok || foldModel || f.repeated {
		return "", false
	}
	if !f.model.found() {
		return "", true
	}
	v := body[f.model.start:f.model.end]
	if v[0] != '"' {
		return "", true // null or not a string: encoding/json leaves the field empty
	}
	v = v[1 : len(v)-1]
	for _, c := range v {
		if c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	return string(v), true
}

// equalFoldASCII reports whether b is lower but for ASCII case: no other
// letter folds to one of "model"'s in encoding/json's name matching.
func equalFoldASCII(b []byte, lower string) bool {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// maxQuickDepth bounds quickTop's recursion; deeper bodies take the decoder.
const maxQuickDepth = 512

type quickScan struct {
	b []byte
	i int
}

func (s *quickScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c if it is next.
func (s *quickScan) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space follows.
func (s *quickScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// name reads a member name without escapes.
func (s *quickScan) name() bool {
	if !s.byte('"') {
		return false
	}
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\' || c < 0x20:
			return false
		}
	}
	return false
}

func (s *quickScan) value(depth int) bool {
	if s.i >= len(s.b) || depth > maxQuickDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		s.i++
		s.space()
		if s.byte('}') {
			return true
		}
		for {
			s.space()
			if !s.str() {
				return false
			}
			s.space()
			if !s.byte(':') {
				return false
			}
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.byte('}') {
				return true
			}
			if !s.byte(',') {
				return false
			}
		}
	case c == '[':
		s.i++
		s.space()
		if s.byte(']') {
			return true
		}
		for {
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.byte(']') {
				return true
			}
			if !s.byte(',') {
				return false
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *quickScan) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// str reads a string. Bytes past 0x7f pass as they are: the decoder allows
// invalid UTF-8 too.
func (s *quickScan) str() bool {
	if !s.byte('"') {
		return false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c != '\\':
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return false
		}
		switch s.b[s.i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.i += 2
		case 'u':
			if len(s.b)-s.i < 6 {
				return false
			}
			var r rune
			for _, h := range s.b[s.i+2 : s.i+6] {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | rune(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return false
				}
			}
			if 0xd800 <= r && r <= 0xdfff {
				return false // a surrogate: whether its pair is right is the decoder's to say
			}
			s.i += 6
		default:
			return false
		}
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *quickScan) number() bool {
	s.byte('-')
	switch {
	case s.byte('0'):
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.byte('.') && !s.digits() {
		return false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (s *quickScan) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
