package jsonlex

// Scanner reads B from I on; every method leaves I after what it read.
type Scanner struct {
	B []byte
	I int
	// RefuseSurrogates makes String (and Skip) refuse a \u escape of a
	// surrogate half: whether its pair is right, and what an unpaired one
	// becomes, is encoding/json's to say.
	RefuseSurrogates bool
}

// MaxDepth is encoding/json's nesting limit.
const MaxDepth = 10000

// Space skips the white space JSON allows between tokens.
func (s *Scanner) Space() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek is the next byte, 0 at the end.
func (s *Scanner) Peek() byte {
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Byte consumes c if it is next.
func (s *Scanner) Byte(c byte) bool {
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// End reports whether only white space follows.
func (s *Scanner) End() bool {
	s.Space()
	return s.I == len(s.B)
}

// Literal consumes lit (true, false, null) if it is next.
func (s *Scanner) Literal(lit string) bool {
	if len(s.B)-s.I < len(lit) || string(s.B[s.I:s.I+len(lit)]) != lit {
		return false
	}
	s.I += len(lit)
	return true
}

// String reads a string and returns its raw bytes between the quotes, escapes
// as written. Bytes past 0x7f pass as they are: invalid UTF-8 is valid JSON
// to encoding/json, which replaces it.
func (s *Scanner) String() ([]byte, bool) {
	if !s.Byte('"') {
		return nil, false
	}
	start := s.I
	for s.I < len(s.B) {
		c := s.B[s.I]
		switch {
		case c == '"':
			s.I++
			return s.B[start : s.I-1], true
		case c < 0x20:
			return nil, false
		case c != '\\':
			s.I++
			continue
		}
		if s.I+1 >= len(s.B) {
			return nil, false
		}
		switch s.B[s.I+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.I += 2
		case 'u':
			if len(s.B)-s.I < 6 {
				return nil, false
			}
			var r rune
			for _, h := range s.B[s.I+2 : s.I+6] {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | rune(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return nil, false
				}
			}
			if s.RefuseSurrogates && 0xd800 <= r && r <= 0xdfff {
				return nil, false
			}
			s.I += 6
		default:
			return nil, false
		}
	}
	return nil, false
}

// Number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) Number() bool {
	s.Byte('-')
	switch c := s.Peek(); {
	case c == '0':
		s.I++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.Byte('.') && !s.digits() {
		return false
	}
	if s.Byte('e') || s.Byte('E') {
		if !s.Byte('+') {
			s.Byte('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (s *Scanner) digits() bool {
	start := s.I
	for s.I < len(s.B) && '0' <= s.B[s.I] && s.B[s.I] <= '9' {
		s.I++
	}
	return s.I > start
}

// Object reads an object: for each member it reads the name and the ':',
// then calls value with the name's raw bytes (escapes as written) and I at
// the member's value, which value reads. False at a syntax error or as soon
// as value returns false.
func (s *Scanner) Object(value func(name []byte) bool) bool {
	if !s.Byte('{') {
		return false
	}
	s.Space()
	if s.Byte('}') {
		return true
	}
	for {
		s.Space()
		name, ok := s.String()
		if !ok {
			return false
		}
		s.Space()
		if !s.Byte(':') {
			return false
		}
		s.Space()
		if !value(name) {
			return false
		}
		s.Space()
		if s.Byte('}') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

// Array reads an array, calling elem with I at each element, which elem
// reads. False at a syntax error or as soon as elem returns false.
func (s *Scanner) Array(elem func() bool) bool {
	if !s.Byte('[') {
		return false
	}
	s.Space()
	if s.Byte(']') {
		return true
	}
	for {
		s.Space()
		if !elem() {
			return false
		}
		s.Space()
		if s.Byte(']') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

// Skip reads one value of any kind whose objects and arrays nest at most
// maxDepth deep, depth of them around it already: Skip(0, MaxDepth) accepts
// what json.Valid accepts (RefuseSurrogates aside).
func (s *Scanner) Skip(depth, maxDepth int) bool {
	switch c := s.Peek(); {
	case c == '"':
		_, ok := s.String()
		return ok
	case c == '{':
		return depth < maxDepth && s.Object(func([]byte) bool { return s.Skip(depth+1, maxDepth) })
	case c == '[':
		return depth < maxDepth && s.Array(func() bool { return s.Skip(depth+1, maxDepth) })
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.Number()
	}
	return false
}
