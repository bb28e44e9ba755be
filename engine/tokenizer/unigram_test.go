package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// nmtBytesRoundTrip is what decode(encode(s)) gives with the nmt-bytes
// variant: Nmt, NFKC and space folding are the only losses (every byte has
// a piece), and the decoder's Strip removes one leading space.
func nmtBytesRoundTrip(s string) string {
	s = nfKnown(norm.NFKC, nmt(s)) // the reference's NFKC: see unicode_version.go
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return strings.TrimPrefix(s, " ")
}

func BenchmarkEncodeUnigram(b *testing.B) {
	_, toks := parityFixtures(b)
	texts := map[string]func(*testing.B) string{"code": benchText, "multilingual": multilingualText}
	for _, name := range []string{"xlmr", "spm-modern"} {
		for _, kind := range []string{"code", "multilingual"} {
			b.Run(name+"/"+kind, func(b *testing.B) {
				tok := toks[name]
				text := texts[kind](b)
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				for b.Loop() {
					tok.Encode(text, false)
				}
			})
		}
	}
}

// TestUnigramConcurrentEncode shares one tokenizer (its word cache and
// scratch pool) between goroutines.
func TestUnigramConcurrentEncode(t *testing.T) {
	g, toks := someParityFixtures(t, "xlmr", "nmt-bytes")
	for _, name := range []string{"xlmr", "nmt-bytes"} {
		tok, rows := toks[name], g.Variants[name].Rows
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range rows {
					r := rows[(i+w*31)%len(rows)]
					if got := tok.Encode(r.Text, true); !slices.Equal(got, r.WithSpecial) {
						t.Errorf("%s: concurrent Encode(%q) = %v", name, r.Text, got)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

// FuzzPrecompiled feeds arbitrary charsmaps and text to the double-array
// reader: a hostile tokenizer.json must give an error or a result, never a
// panic, and the result is valid UTF-8.
func FuzzPrecompiled(f *testing.F) {
	raw, err := os.ReadFile("testdata/unigram/tokenizer.json")
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Normalizer struct {
			Charsmap string `json:"precompiled_charsmap"`
		} `json:"normalizer"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		f.Fatal(err)
	}
	real, err := base64.StdEncoding.DecodeString(file.Normalizer.Charsmap)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real, "ｶﾞ ① e\u0301 ﬁ \u3000 x")
	f.Add(real[:4+4*64], "abc")
	f.Add(real, "a\r\nb\u0301 \U0001F1FA\U0001F1F8\U0001F1EB x\u200d\U0001F468 \t\x01")
	f.Add([]byte{4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 'a', 0}, "a\x00b")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		m, err := parsePrecompiled(base64.StdEncoding.EncodeToString(data))
		if err != nil {
			return
		}
		text = strings.ToValidUTF8(text, "\uFFFD")
		out := m.normalize(text)
		if !utf8.ValidString(out) {
			t.Fatalf("normalize(%q) = %q, not UTF-8", text, out)
		}
		if want := normalizeByClusters(m, text); out != want {
			t.Fatalf("normalize(%q) = %q, cluster by cluster %q", text, out, want)
		}
	})
}

// normalizeByClusters is the plain reading of the reference: segment the
// whole text into grapheme clusters, then apply the rules to each.
func normalizeByClusters(m *precompiledMap, s string) string {
	var sb strings.Builder
	state := -1
	for s != "" {
		var g string
		g, s, _, state = uniseg.FirstGraphemeClusterInString(s, state)
		m.writeCluster(&sb, g)
	}
	return sb.String()
}

// TestPrecompiledRules builds a darts-clone array by hand with one rule,
// "a" -> pool[value], to check the reader and its guard against offsets
// inside a character.
func TestPrecompiledRules(t *testing.T) {
	charsmap := func(value uint32, pool string) *precompiledMap {
		units := make([]uint32, 98)
		units[0] = 1 << 10                // root: children at 0^1
		units[1^'a'] = 'a' | 1<<8 | 1<<10 // 'a', a leaf, its value at 96^1
		units[1^'a'^1] = value
		raw := binary.LittleEndian.AppendUint32(nil, uint32(4*len(units)))
		for _, u := range units {
			raw = binary.LittleEndian.AppendUint32(raw, u)
		}
		m, err := parsePrecompiled(base64.StdEncoding.EncodeToString(append(raw, pool...)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if got := charsmap(0, "xé\x00").normalize("abca"); got != "xébcxé" {
		t.Errorf("rule a -> xé: %q", got)
	}
	if got := charsmap(2, "xé\x00").normalize("abc"); got != "abc" || !utf8.ValidString(got) {
		t.Errorf("offset inside é must leave the text alone: %q", got)
	}
}
