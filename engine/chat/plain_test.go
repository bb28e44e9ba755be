package chat

import (
	"testing"

	"github.com/ardanlabs/jinja"
)

// renderPlain renders src with the library directly, unguarded.
func renderPlain(t *testing.T, src string) string {
	t.Helper()
	tm, err := jinja.Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	msgs := jinja.NewList([]jinja.Value{
		dict("role", jinja.NewString("user"), "content", jinja.NewString(" one ")),
		dict("role", jinja.NewString("assistant"), "content", jinja.NewString("two")),
	})
	out, err := tm.RenderValues(map[string]jinja.Value{"messages": msgs, "tools": jinja.None(), "documents": jinja.None(), "add_generation_prompt": jinja.NewBool(false)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
