//go:build !race

// Tests and fuzz targets over every parity variant (XLM-R, BARThez, BERT and
// more, built from their large tokenizer.json files) and the byte-level
// references (Qwen3, Llama 3), one goroutine each: loading those fixtures took
// 40 s under the race detector. make test-norace runs these, the fuzz targets'
// seed corpora included; make fuzz fuzzes them.

package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUnigramRoundTrip(t *testing.T) {
	g, toks := parityFixtures(t)
	tok := toks["nmt-bytes"]
	for _, r := range g.Variants["nmt-bytes"].Rows {
		// Spelled byte pieces (<0x41>) and the metaspace (▁) are vocabulary
		// pieces that decode as the byte and a space, as in the reference.
		if strings.Contains(r.Text, "<0x") || strings.Contains(r.Text, "▁") {
			continue
		}
		ids := tok.EncodeUntrusted(r.Text, false)
		if got, want := tok.Decode(ids, false), nmtBytesRoundTrip(r.Text); got != want {
			t.Errorf("decode(encode(%q)) = %q, want %q", r.Text, got, want)
		}
	}
}

// FuzzUnigram checks that Unigram encoding never panics, gives ids in
// range, and round-trips where the normalizer allows.
func FuzzUnigram(f *testing.F) {
	_, toks := parityFixtures(f)
	for _, s := range []string{"", " ", "Hello wörld", "ｶﾞ ①  \t\n x", "\xff\xfe\xe2\x82", "e\u0301\u0302\u0303\u0304", "<s>x</s>", "▁▁a", "👩🏽‍💻🏴󠁧󠁢󠁳󠁣󠁴󠁿"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, tok := range toks {
			ids := tok.EncodeUntrusted(s, true)
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("%s: id %d out of range for %q", name, id, s)
				}
			}
			if cut, _ := tok.EncodeTruncated(s, 7); len(cut) > 7 {
				t.Fatalf("%s: EncodeTruncated(%q, 7) gave %d ids", name, s, len(cut))
			}
			if name != "nmt-bytes" {
				continue
			}
			// Special pieces such as "<s>" are in the Unigram vocabulary and
			// match their spelling in text, as in the reference, so they are
			// decoded rather than skipped.
			valid := strings.ToValidUTF8(s, "\uFFFD")
			ids = tok.EncodeUntrusted(s, false)
			if got, want := tok.Decode(ids, false), nmtBytesRoundTrip(valid); got != want {
				t.Fatalf("decode(encode(%q)) = %q, want %q", s, got, want)
			}
		}
	})
}

func FuzzEncode(f *testing.F) {
	for _, s := range splitTexts {
		f.Add(s)
	}
	f.Add("<|im_start|>user\nhi<|im_end|>")
	f.Add("<s>Hello</s> <L> x <R>  y <W>z")
	f.Add("\xff\xfe broken \xe2\x82")
	toks := fuzzTokenizers(f)
	f.Fuzz(func(t *testing.T, s string) {
		valid := strings.ToValidUTF8(s, "\uFFFD")
		for name, tok := range toks {
			ids := tok.EncodeUntrusted(s, false)
			if want, ok := expectedRoundTrip(name, valid); ok {
				if got := tok.Decode(ids, false); got != want {
					t.Fatalf("%s: decode(encode(%q)) = %q", name, s, got)
				}
			}
			// Splitting untrusted text into segments changes nothing.
			mid := len(valid) / 2
			for mid > 0 && !utf8.RuneStart(valid[mid]) {
				mid--
			}
			segs := []Segment{{Text: valid[:mid]}, {Text: valid[mid:]}}
			if got := tok.EncodeSegments(segs, true); !slices.Equal(got, tok.EncodeUntrusted(valid, true)) {
				t.Fatalf("%s: segments of %q encode differently", name, s)
			}
			all := tok.Encode(s, true)
			d := tok.NewStreamDecoder(nil, true)
			var sb strings.Builder
			for _, id := range all {
				sb.WriteString(d.Next(id))
			}
			sb.WriteString(d.Flush())
			if want := tok.Decode(all, true); sb.String() != want {
				t.Fatalf("%s: stream %q, decode %q", name, sb.String(), want)
			}
		}
	})
}

func FuzzMerge(f *testing.F) {
	tok := fuzzTokenizers(f)
	f.Add("hello world")
	f.Add("▁▁▁the")
	f.Fuzz(func(t *testing.T, word string) {
		word = strings.ToValidUTF8(word, "\uFFFD")
		for _, tk := range tok {
			checkMerge(t, tk.model.(*bpeModel), word)
		}
	})
}
