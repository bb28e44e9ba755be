package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestParseModelRef: a ModelRef holds a Hub repo id and nothing that could
// name a folder or a URL path of its own choosing.
func TestParseModelRef(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"repo id", "mlx-community/Qwen3-0.6B-4bit", true},
		{"dots, underscores and dashes", "a.b_c-d/e.f_g-h", true},
		{"one-letter parts", "a/b", true},
		{"digits first", "0org/1model", true},
		{"longest allowed", "o/" + strings.Repeat("m", 198), true},

		{"empty", "", false},
		{"no org", "Qwen3-0.6B", false},
		{"three parts", "a/b/c", false},
		{"parent", "../etc", false},
		{"parent as name", "org/..", false},
		{"parent inside name", "org/a..b", false},
		{"parent as org", "../passwd", false},
		{"name ending in a dot", "org/name.", false},
		{"dot org", "./model", false},
		{"absolute path", "/etc/passwd", false},
		{"absolute two-part path", "/etc", false},
		{"home", "~/models", false},
		{"windows path", `C:\models\m`, false},
		{"backslash", `org\name`, false},
		{"leading dash", "-org/name", false},
		{"space", "org/my model", false},
		{"NUL", "org/na\x00me", false},
		{"newline", "org/name\n", false},
		{"percent escape", "org/%2e%2e", false},
		{"query", "org/name?x=1", false},
		{"fullwidth solidus", "org／name", false},
		{"fullwidth dots", "org/．．", false},
		{"cyrillic letter", "оrg/name", false},
		{"zero-width space", "org/na\u200bme", false},
		{"right-to-left override", "org/\u202emodel", false},
		{"combining mark", "org/e\u0301", false},
		{"invalid UTF-8", "org/\xff", false},
		{"too long", "o/" + strings.Repeat("m", 199), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := ParseModelRef(tc.in)
			if tc.ok {
				if err != nil || ref.String() != tc.in || ref.IsZero() || !IsModelRef(tc.in) {
					t.Errorf("ParseModelRef(%q) = %q, %v; want it as is", tc.in, ref, err)
				}
				return
			}
			if err == nil || !ref.IsZero() || IsModelRef(tc.in) {
				t.Errorf("ParseModelRef(%q) = %q, %v; want an error", tc.in, ref, err)
			}
			if !errors.Is(err, ErrInvalidModelRef) {
				t.Errorf("error %v does not wrap ErrInvalidModelRef", err)
			}
			if c, ok := Classify(err); !ok || c.Kind != KindInvalid || c.Code != "invalid_repo_id" {
				t.Errorf("classified %+v, want invalid invalid_repo_id", c)
			}
		})
	}
}
