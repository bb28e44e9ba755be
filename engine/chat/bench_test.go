package chat

import "testing"

func BenchmarkRenderQwen3Tools(b *testing.B) {
	tmpl, err := Load("testdata/templates/qwen3")
	if err != nil {
		b.Fatal(err)
	}
	in := loadCase(&testing.T{}, "testdata/cases/tool_calls_with_text.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseOutputHermes(b *testing.B) {
	text := "<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>"
	b.ReportAllocs()
	for b.Loop() {
		ParseOutput(text, Options{Format: FormatHermes, Reasoning: true})
	}
}

// BenchmarkRenderInert is a plain chat rendered with its content spans, and
// with every text inert (one render).
func BenchmarkRenderInert(b *testing.B) {
	tmpl, err := Load("testdata/templates/qwen3")
	if err != nil {
		b.Fatal(err)
	}
	in := loadCase(&testing.T{}, "testdata/cases/basic.json")
	for _, inert := range []bool{false, true} {
		name := "spans"
		if inert {
			name = "inert"
			in.Inert = func(string) bool { return true }
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tmpl.Render(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
