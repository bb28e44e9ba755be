package tokenizer

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// testdata/tiny-wordpiece.json is a tokenizer.json in the layout of
// bert-base-uncased's (the same normalizer, pre-tokenizer, post-processor
// and decoder sections) with a vocabulary small enough to derive every id
// by hand. The expected ids and decodes below are also what the reference
// prints for it: `node testdata/ref/wordpiece.mjs` after `npm ci --prefix
// engine/tokenizer/testdata/ref` (@lenml/tokenizers 3.7.2, transformers.js).
func tinyBERT(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/tiny-wordpiece.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWordPiece(t *testing.T) {
	tok, err := FromJSON([]byte(tinyBERT(t)))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		want []int32
	}{
		// Lowercased and accent-stripped, punctuation isolated, CJK split
		// per character, unknown words as one [UNK] each.
		{"Unaffable, CAFÉ! hellos 日本 xyz 'S", []int32{2, 4, 5, 6, 8, 11, 9, 7, 14, 10, 1, 1, 12, 13, 3}},
		// Repeated continuation pieces.
		{"aaa", []int32{2, 15, 16, 16, 3}},
		// A word that matches a prefix but cannot be finished is a single
		// [UNK], not "un" followed by [UNK].
		{"unx", []int32{2, 1, 3}},
		// Words over max_input_chars_per_word are [UNK] without a split.
		{strings.Repeat("a", 101), []int32{2, 1, 3}},
		{strings.Repeat("a", 100), append(append([]int32{2, 15}, slices.Repeat([]int32{16}, 99)...), 3)},
	}
	for _, c := range cases {
		if got := tok.Encode(c.in, true); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%.40q) = %v, want %v", c.in, got, c.want)
		}
	}
	if id, ok := tok.TokenID("##aff"); !ok || id != 5 {
		t.Errorf(`TokenID("##aff") = %d, %v`, id, ok)
	}

	// The WordPiece decoder joins continuation pieces, spaces words and,
	// with cleanup, removes the space before punctuation.
	ids := tok.Encode("Unaffable, CAFÉ! hellos", true)
	if got, want := tok.Decode(ids, true), "unaffable, cafe! hellos"; got != want {
		t.Errorf("Decode = %q, want %q", got, want)
	}
	if got, want := tok.Decode(ids, false), "[CLS] unaffable, cafe! hellos [SEP]"; got != want {
		t.Errorf("Decode with specials = %q, want %q", got, want)
	}
}

func TestWordPieceNeedsUnk(t *testing.T) {
	bad := strings.Replace(tinyBERT(t), `"unk_token":"[UNK]"`, `"unk_token":"<unk>"`, 1)
	if _, err := FromJSON([]byte(bad)); err == nil || !strings.Contains(err.Error(), "unk") {
		t.Fatalf("a WordPiece vocabulary without its unk token loaded: %v", err)
	}
}

func TestEncodePair(t *testing.T) {
	tok, err := FromJSON([]byte(tinyBERT(t)))
	if err != nil {
		t.Fatal(err)
	}
	ids, types, err := tok.EncodePair("hello!", "Unaffable")
	if err != nil {
		t.Fatal(err)
	}
	// [CLS] hello ! [SEP] un ##aff ##able [SEP], the second sentence and
	// its [SEP] typed 1 as in the file's pair template; the last line of
	// testdata/ref/wordpiece.mjs prints the same from transformers.js.
	if want := []int32{2, 7, 9, 3, 4, 5, 6, 3}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	if want := []int32{0, 0, 0, 0, 1, 1, 1, 1}; !slices.Equal(types, want) {
		t.Errorf("type ids = %v, want %v", types, want)
	}
}
