package grammar

import (
	"math/rand/v2"
	"strings"
	"testing"
)

var coderStops = []string{"</parameter>", "<parameter=", "</function>"}

// TestTextWithout compares the grammar with its definition on texts built to
// come close to the stops: pieces of them, openers and other characters.
func TestTextWithout(t *testing.T) {
	g, err := TextWithout(coderStops...)
	if err != nil {
		t.Fatal(err)
	}
	pieces := []string{"<", "/", "p", "parameter", "</param", "<parameter", "=", ">", "</function", "f", "x", "é", "\n", "\t", "</p>", "<pre>", "a<b"}
	r := rand.New(rand.NewPCG(1, 2))
	check := func(text string) {
		p, err := NewParser(g)
		if err != nil {
			t.Fatal(err)
		}
		want := true
		for _, s := range coderStops {
			want = want && !strings.Contains(text, s)
		}
		got := p.Advance([]byte(text)) == nil && p.Accepting()
		if got != want {
			t.Fatalf("%q: matched %v, want %v", text, got, want)
		}
	}
	for _, text := range []string{"", "Paris", "package main\n\nfunc main() {\n\tprintln(\"<hi>\")\n}", "x </p> y", "a </paramete b", "</parameter>", "<parameter=x>", "</function>", "<"} {
		check(text)
	}
	for range 5000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		check(b.String())
	}
}

func TestTextWithoutRejects(t *testing.T) {
	p, _ := NewParser(mustText(t))
	for _, bad := range [][]byte{{0x00}, {0xff}, {0xc0}, []byte("\x1b"), []byte("\xc3(")} {
		if p.Valid(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if !p.Valid([]byte{0xc3}) || !p.Valid([]byte("é\r\n")) {
		t.Error("valid UTF-8 refused")
	}
	for _, stops := range [][]string{nil, {"<a", "b"}, {"<a<"}, {"<"}, {"\xe9a"}} {
		if _, err := TextWithout(stops...); err == nil {
			t.Errorf("stops %q accepted", stops)
		}
	}
}

func mustText(t *testing.T) *Grammar {
	t.Helper()
	g, err := TextWithout(coderStops...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
