package openai

import (
	"reflect"
	"strconv"
)

// fits reports whether data is one valid JSON object that checkValue accepts
// for type t, reading it once. It is stricter than checkValue where that is
// simpler: a duplicate key must fit each time, and an object key holding an
// escape, or nesting past encoding/json's limit, is left to decodeChecked.
// false says only "take the careful path", never which fault there is.
func fits(data []byte, t reflect.Type) bool {
	s := fitScan{b: data}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' || !s.value(t, 0) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// maxFitDepth is encoding/json's nesting limit.
const maxFitDepth = 10000

type fitScan struct {
	b []byte
	i int
}

func (s *fitScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads the value at s.i and checks it against t (nil: any value).
func (s *fitScan) value(t reflect.Type, depth int) bool {
	if depth > maxFitDepth || s.i >= len(s.b) {
		return false
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || (t != nil && t.Kind() == reflect.Interface) {
		t = nil
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '{':
		if t != nil && t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
			return false
		}
		return s.object(t, depth)
	case c == '[':
		if t != nil && t.Kind() != reflect.Slice {
			return false
		}
		var elem reflect.Type
		if t != nil {
			elem = t.Elem()
		}
		return s.array(elem, depth)
	case c == '"':
		if t != nil && t.Kind() != reflect.String {
			return false
		}
		_, ok := s.str()
		return ok
	case c == 'n':
		return s.literal("null") // null fits every type
	case c == 't' || c == 'f':
		if t != nil && t.Kind() != reflect.Bool {
			return false
		}
		if c == 't' {
			return s.literal("true")
		}
		return s.literal("false")
	case c == '-' || (c >= '0' && c <= '9'):
		if !s.number() {
			return false
		}
		if t == nil {
			return true
		}
		num := string(s.b[start:s.i])
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			_, err := strconv.ParseInt(num, 10, t.Bits())
			return err == nil
		case reflect.Float32, reflect.Float64:
			_, err := strconv.ParseFloat(num, t.Bits())
			return err == nil
		}
		return false
	}
	return false
}

// object reads an object; t is a struct (its keys must be fields), a map, or
// nil for any object.
func (s *fitScan) object(t reflect.Type, depth int) bool {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		if t.Kind() == reflect.Struct {
			fields = fieldsOf(t)
		} else {
			elem = t.Elem()
		}
	}
	s.i++ // {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		vt := elem
		if fields != nil {
			if f, known := fields[string(key)]; known && !hasEscape(key) {
				vt = f
			} else {
				return false
			}
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		if !s.value(vt, depth+1) {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *fitScan) array(elem reflect.Type, depth int) bool {
	s.i++ // [
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(elem, depth+1) {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string and returns its raw bytes between the quotes.
func (s *fitScan) str() ([]byte, bool) {
	s.i++ // "
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return nil, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return nil, false
					}
				}
				s.i += 6
			default:
				return nil, false
			}
		default:
			// Invalid UTF-8 is valid JSON: encoding/json replaces it.
			s.i++
		}
	}
	return nil, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hasEscape(key []byte) bool {
	for _, c := range key {
		if c == '\\' {
			return true
		}
	}
	return false
}

func (s *fitScan) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *fitScan) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *fitScan) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}
