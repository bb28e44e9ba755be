//go:build !race

package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// unicodeSweep is testdata/unicode-sweep.json.gz, written by
// testdata/ref/unicodesweep.mjs: the reference's treatment of every code point.
type unicodeSweep struct {
	Tokenizers string            `json:"tokenizers"`
	Removed    [][2]rune         `json:"removed"`
	Space      [][2]rune         `json:"space"`
	CJK        [][2]rune         `json:"cjk"`
	Punct      [][2]rune         `json:"punct"`
	Split      [][2]rune         `json:"split"`
	Lower      map[string]string `json:"lower"`
	Strip      map[string]string `json:"strip"`
	NFC        map[string]string `json:"nfc"`
	NFD        map[string]string `json:"nfd"`
	NFKC       map[string]string `json:"nfkc"`
	NFKD       map[string]string `json:"nfkd"`
}

// TestUnicodeSweep checks the BERT normalizer and pre-tokenizer and the
// Unicode normalization forms on every code point against the reference,
// which has older Unicode tables than Go's (see unicode_version.go).
func TestUnicodeSweep(t *testing.T) {
	f, err := os.Open("testdata/unicode-sweep.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var g unicodeSweep
	if err := json.NewDecoder(zr).Decode(&g); err != nil {
		t.Fatal(err)
	}
	in := func(rs [][2]rune) func(rune) bool {
		tab := &unicode.RangeTable{}
		for _, r := range rs {
			tab.R32 = append(tab.R32, unicode.Range32{Lo: uint32(r[0]), Hi: uint32(r[1]), Stride: 1})
		}
		return func(r rune) bool { return unicode.Is(tab, r) }
	}
	removed, space, cjk, punct, split := in(g.Removed), in(g.Space), in(g.CJK), in(g.Punct), in(g.Split)
	bad := map[string][]string{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		gone := r == 0 || r == unicode.ReplacementChar || isBertControl(r)
		for _, c := range []struct {
			what      string
			got, want bool
		}{
			{"clean_text deletes", gone, removed(r)},
			{"clean_text makes a space", !gone && isBertSpace(r), space(r)},
			{"handle_chinese_chars pads", isCJK(r), cjk(r)},
			{"BertPreTokenizer isolates", isPunct(r), punct(r)},
			{"BertPreTokenizer splits on", unicode.IsSpace(r), split(r)},
		} {
			if c.got != c.want {
				bad[c.what] = append(bad[c.what], fmt.Sprintf("U+%04X (ours %v)", r, c.got))
			}
		}
	}
	// Lowercase, strip_accents and the normalization forms map characters
	// one by one, so whole blocks go through at once, each character after
	// a "|" that stops reordering and composition across neighbours; a
	// block that differs is then checked character by character to name the
	// culprits.
	for _, c := range []struct {
		what string
		fn   func(string) string
		want map[string]string
	}{
		{"lowercase", lowercase, g.Lower},
		{"strip_accents", stripAccents, g.Strip},
		{"NFC", func(s string) string { return nfKnown(norm.NFC, s) }, g.NFC},
		{"NFD", func(s string) string { return nfKnown(norm.NFD, s) }, g.NFD},
		{"NFKC", func(s string) string { return nfKnown(norm.NFKC, s) }, g.NFKC},
		{"NFKD", func(s string) string { return nfKnown(norm.NFKD, s) }, g.NFKD},
	} {
		const block = 4096
		for lo := rune(0); lo <= unicode.MaxRune; lo += block {
			var src, want strings.Builder
			var runes []rune
			for r := lo; r < lo+block && r <= unicode.MaxRune; r++ {
				if (r >= 0xD800 && r <= 0xDFFF) || r == '|' {
					continue
				}
				runes = append(runes, r)
				src.WriteByte('|')
				src.WriteRune(r)
				want.WriteByte('|')
				if w, ok := c.want[strconv.Itoa(int(r))]; ok {
					want.WriteString(w)
				} else {
					want.WriteRune(r)
				}
			}
			if c.fn(src.String()) == want.String() {
				continue
			}
			for _, r := range runes {
				w, ok := c.want[strconv.Itoa(int(r))]
				if !ok {
					w = string(r)
				}
				if got := c.fn(string(r)); got != w {
					bad[c.what] = append(bad[c.what], fmt.Sprintf("U+%04X (%q, reference %q)", r, got, w))
				}
			}
		}
	}
	for what, cps := range bad {
		t.Errorf("%s: %d code points differ from tokenizers %s: %s", what, len(cps), g.Tokenizers, strings.Join(cps[:min(len(cps), 30)], ", "))
	}
}
