package jsonlex

import (
	"encoding/json"
	"strings"
	"testing"
)

// skipAll is json.Valid by the lexer: one value, then only white space.
func skipAll(data []byte) bool {
	s := Scanner{B: data}
	s.Space()
	return s.Skip(0, MaxDepth) && s.End()
}

var validCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `-12.0E-1`, `true`, `false`, `null`,
	` {"a": [1, "x\n", {"b": null}], "c\u00e9": "\ud83d\ude00"} `,
	`"\"\\\/\b\f\n\r\t\u0041"`, "\"\xff\xfe\"", `[[[[]]]]`,
	`01`, `1.`, `.5`, `1e`, `-`, `+1`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", `"abc`,
	`{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`, `tru`, `nul`, `{} {}`, ``, ` `,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth),
	strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1),
}

// The lexer is the fast path's half of "valid or not": it must say what
// encoding/json says, to the nesting limit.
func TestSkipIsValid(t *testing.T) {
	for _, c := range validCases {
		if got, want := skipAll([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Skip(%.40q) = %v, json.Valid = %v", c, got, want)
		}
	}
}

func TestRefuseSurrogates(t *testing.T) {
	for c, want := range map[string]bool{`"\ud83d\ude00"`: false, `"\uD800"`: false, `"\ue000"`: true, `"\u00e9"`: true} {
		s := Scanner{B: []byte(c), RefuseSurrogates: true}
		if _, ok := s.String(); ok != want {
			t.Errorf("String(%s) with RefuseSurrogates = %v, want %v", c, ok, want)
		}
	}
}

func FuzzSkip(f *testing.F) {
	for _, c := range validCases[:len(validCases)-4] {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := skipAll(data), json.Valid(data); got != want {
			t.Fatalf("Skip(%q) = %v, json.Valid = %v", data, got, want)
		}
	})
}
