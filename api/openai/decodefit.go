package openai

import (
	"reflect"
	"strconv"

	"github.com/mlx-manager/mlx-manager/internal/jsonlex"
)

// fits reports whether data is one valid JSON object that checkValue accepts
// for type t, reading it once. It is stricter than checkValue where that is
// simpler: a duplicate key must fit each time, and an object key holding an
// escape, or nesting past encoding/json's limit, is left to decodeChecked.
// false says only "take the careful path", never which fault there is.
func fits(data []byte, t reflect.Type) bool {
	s := fitScan{jsonlex.Scanner{B: data}}
	s.Space()
	if s.Peek() != '{' || !s.value(t, 0) {
		return false
	}
	return s.End()
}

// fitScan is a lexer that also checks what it reads against Go types.
type fitScan struct{ jsonlex.Scanner }

// value reads the value at s.I and checks it against t (nil: any value).
func (s *fitScan) value(t reflect.Type, depth int) bool {
	if depth > jsonlex.MaxDepth || s.I >= len(s.B) {
		return false
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || (t != nil && t.Kind() == reflect.Interface) {
		t = nil
	}
	start := s.I
	switch c := s.B[s.I]; {
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
		_, ok := s.String()
		return ok
	case c == 'n':
		return s.Literal("null") // null fits every type
	case c == 't' || c == 'f':
		if t != nil && t.Kind() != reflect.Bool {
			return false
		}
		if c == 't' {
			return s.Literal("true")
		}
		return s.Literal("false")
	case c == '-' || (c >= '0' && c <= '9'):
		if !s.Number() {
			return false
		}
		if t == nil {
			return true
		}
		num := string(s.B[start:s.I])
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
	return s.Object(func(key []byte) bool {
		vt := elem
		if fields != nil {
			f, known := fields[string(key)]
			if !known || hasEscape(key) {
				return false
			}
			vt = f
		}
		return s.value(vt, depth+1)
	})
}

func (s *fitScan) array(elem reflect.Type, depth int) bool {
	return s.Array(func() bool { return s.value(elem, depth+1) })
}

func hasEscape(key []byte) bool {
	for _, c := range key {
		if c == '\\' {
			return true
		}
	}
	return false
}
