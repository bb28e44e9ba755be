package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// tinyBERT is a tokenizer.json in the layout of bert-base-uncased's (the
// same normalizer, pre-tokenizer, post-processor and decoder sections) with
// a vocabulary small enough to derive every expected id by hand.
const tinyBERT = `{
  "version": "1.0",
  "added_tokens": [
    {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
    {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
    {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
    {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}
  ],
  "normalizer": {"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
  "pre_tokenizer": {"type":"BertPreTokenizer"},
  "post_processor": {"type":"TemplateProcessing",
    "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
    "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
    "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
  "decoder": {"type":"WordPiece","prefix":"##","cleanup":true},
  "model": {"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
    "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"un":4,"##aff":5,"##able":6,"hello":7,",":8,"!":9,"日":10,"cafe":11,"'":12,"s":13,"##s":14,"a":15,"##a":16}}
}`

func TestWordPiece(t *testing.T) {
	tok, err := FromJSON([]byte(tinyBERT))
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
	bad := strings.Replace(tinyBERT, `"unk_token":"[UNK]"`, `"unk_token":"<unk>"`, 1)
	if _, err := FromJSON([]byte(bad)); err == nil || !strings.Contains(err.Error(), "unk") {
		t.Fatalf("a WordPiece vocabulary without its unk token loaded: %v", err)
	}
}
