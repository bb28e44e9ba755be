package chat

import (
	"errors"
	"strings"
	"testing"
)

// TestSandboxHoles renders hostile templates. Each must end with a clear
// error instead of overflowing the Go stack (which kills the process) or
// running without bound.
func TestSandboxHoles(t *testing.T) {
	tests := []struct {
		name, src string
		want      string
	}{
		{"self-recursive macro", `{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}`, "nested deeper"},
		{"mutually recursive macros", `{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}`, "nested deeper"},
		{"recursion through caller", `{% macro m() %}{{ caller() }}{% endmacro %}{% macro r() %}{% call m() %}{{ r() }}{% endcall %}{% endmacro %}{{ r() }}`, "nested deeper"},
		{"exponential macro tree", `{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}`, "iterations"},
		{"recursive loop", `{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}`, "recursive loop deeper"},
		{"huge range", `{% for i in range(100000000000) %}x{% endfor %}`, "range of"},
		{"nested loops", `{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}`, "iterations"},
		{"huge string loop", `{% for c in 'ab' * 100000 %}{% endfor %}`, "loop over"},
		{"string doubling", `{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}`, "larger than"},
		{"output flood", `{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}`, "larger than"},
		{"text flood", `{% for i in range(10000) %}` + strings.Repeat("y", 200) + `{% endfor %}`, "output larger"},
		{"deep nesting", `{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}`, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			// Far smaller than DefaultLimits to keep the test fast (the
			// floods are sized to pass MaxOutput within MaxSteps); the
			// mechanisms are the same.
			_, err = tmpl.Render(Input{Limits: Limits{MaxSteps: 1 << 14, MaxDepth: 200, MaxOutput: 1 << 20}})
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrLimit mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSandboxRejects(t *testing.T) {
	tests := []struct{ name, src string }{
		{"recursive default", `{% macro f(x=f()) %}{% endmacro %}{{ f() }}`},
		{"reserved name", `{{ __mlx_leave() }}`},
		{"deep brackets", "{{ " + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + " }}"},
		{"too large", strings.Repeat("x", MaxTemplateSize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.src); !errors.Is(err, ErrUnsafeTemplate) {
				t.Fatalf("got %v, want ErrUnsafeTemplate", err)
			}
		})
	}
}

// TestInstrumentKeepsOutput checks that guard tags change no whitespace,
// including around trim markers and lstrip/trim_blocks.
func TestInstrumentKeepsOutput(t *testing.T) {
	srcs := []string{
		"{% for m in messages %}\n  {{ m.content }}\n{% endfor %}\n",
		"{%- for m in messages -%}\n  [{{- m.content -}}]  \n{%- endfor -%}\n",
		"{% macro f(x) -%}\n   <{{ x }}>\n{%- endmacro %}\n{{ f('a') }} {{ f('b') }}",
		"{% macro g(x) %}\n{{ x }}\n  {% endmacro %}{{ g(1) }}|{% call g(2) %}c{% endcall %}",
		"{% for i in range(3) if i != 1 %}{{ loop.index }}{% else %}none{% endfor %}",
		"{% set x = 'a=b' %}{{ x }}{% set y %}block {{ x }}{% endset %}{{ y }}",
		"{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
		"{% raw %}{{ not evaluated }}{% endraw %}",
	}
	for _, src := range srcs {
		want := renderPlain(t, src)
		tmpl, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Render(Input{Messages: []Message{{Role: "user", Content: " one "}, {Role: "assistant", Content: "two"}}})
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got.Text != want {
			t.Fatalf("%q: instrumented %q, plain %q", src, got.Text, want)
		}
	}
}
