package chat

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestInertSkipsSpans renders the golden corpus with and without Inert: the
// text is the same; spans are dropped only when every text a marker would
// stand for is inert, and Inert is asked about exactly those texts.
func TestInertSkipsSpans(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/templates/*/tokenizer_config.json")
	cases, _ := filepath.Glob("testdata/cases/*.json")
	if len(dirs) < 10 || len(cases) < 5 {
		t.Fatalf("corpus: %d templates, %d cases", len(dirs), len(cases))
	}
	skipped, kept := 0, 0
	for _, cfg := range dirs {
		tmpl, err := Load(filepath.Dir(cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, cpath := range cases {
			in := loadCase(t, cpath)
			want, err := tmpl.Render(in)
			if err != nil {
				continue // the golden test covers templates that refuse a case
			}
			var mu sync.Mutex
			var asked []string
			in.Inert = func(s string) bool {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, s)
				return !strings.ContainsAny(s, "<>|[]")
			}
			got, err := tmpl.Render(in)
			if err != nil {
				t.Fatalf("%s %s: %v", cfg, cpath, err)
			}
			if got.Text != want.Text {
				t.Fatalf("%s %s: text changed with Inert", cfg, cpath)
			}
			inert := allInert(in.Messages, func(s string) bool { return !strings.ContainsAny(s, "<>|[]") })
			switch {
			case inert && got.Content != nil:
				t.Errorf("%s %s: every text inert, still %d spans", cfg, cpath, len(got.Content))
			case inert:
				skipped++
				// Every span the marked render found was asked about.
				for _, sp := range want.Content {
					if !slices.Contains(asked, want.Text[sp.Start:sp.End]) {
						t.Errorf("%s %s: span %q was not asked about (asked %q)", cfg, cpath, want.Text[sp.Start:sp.End], asked)
					}
				}
			case !slices.Equal(got.Content, want.Content):
				t.Errorf("%s %s: spans %v, want %v", cfg, cpath, got.Content, want.Content)
			default:
				kept++
			}
		}
	}
	if skipped == 0 || kept == 0 {
		t.Errorf("skipped %d, kept %d renders' spans: the corpus misses a case", skipped, kept)
	}
}
