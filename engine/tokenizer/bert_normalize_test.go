package tokenizer

import "testing"

// The expected strings are also what transformers.js prints for these
// normalizers: `node testdata/ref/bertnormalizer.mjs` after `npm ci --prefix
// engine/tokenizer/testdata/ref` (@lenml/tokenizers 3.7.2).
func TestBertNormalizer(t *testing.T) {
	cases := []struct {
		config, in, want string
	}{
		// The Hugging Face course's examples for bert-base-uncased and
		// bert-base-cased (strip_accents null follows lowercase).
		{`{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}`,
			"Héllò hôw are ü?", "hello how are u?"},
		{`{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":false}`,
			"Héllò hôw are ü?", "Héllò hôw are ü?"},
		// clean_text: NUL, U+FFFD and format/control characters go, the
		// whitespace controls and other White_Space runes become spaces.
		{`{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":false,"strip_accents":false,"lowercase":false}`,
			"a\x00b\ufffdc\u200bd\te\nf\u00a0g\u3000h\x07i", "abcd e f g hi"},
		// CJK ideographs are padded so the pre-tokenizer splits each one;
		// kana and hangul are not in BERT's ranges.
		{`{"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":true,"strip_accents":false,"lowercase":false}`,
			"日本語かな한국", " 日  本  語 かな한국"},
		// strip_accents set explicitly without lowercasing.
		{`{"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":false,"strip_accents":true,"lowercase":false}`,
			"Crème Brûlée", "Creme Brulee"},
		{`{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},{"type":"Lowercase"}]}`,
			"Ångström ÇA", "angstrom ca"},
	}
	for _, c := range cases {
		comp, err := parseComponent([]byte(c.config))
		if err != nil {
			t.Fatalf("%s: %v", c.config, err)
		}
		n, err := buildNormalizer(comp, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.config, err)
		}
		if got := n(c.in); got != c.want {
			t.Errorf("%s\n%q -> %q, want %q", c.config, c.in, got, c.want)
		}
	}
}
