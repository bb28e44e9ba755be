package tokenizer

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func loadFixture(t testing.TB, name string) *Tokenizer {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := FromJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tok
}

// fuzzTokenizers returns the tokenizers that are always available, plus
// the byte-level references when node_modules is installed.
func fuzzTokenizers(t testing.TB) map[string]*Tokenizer {
	t.Helper()
	out := map[string]*Tokenizer{
		"tiny-bytelevel": loadFixture(t, "tiny-bytelevel.json"),
		"tiny-spm":       loadFixture(t, "tiny-spm.json"),
		"llama2":         refTokenizer(t, "llama2"),
	}
	for _, name := range []string{"qwen3", "llama3"} {
		dir := refDir + "/node_modules/" + refModels[name] + "/models/tokenizer.json"
		if _, err := os.Stat(dir); err == nil {
			out[name] = refTokenizer(t, name)
		}
	}
	return out
}

// expectedRoundTrip is what decode(encode(s)) must give, or false when the
// tokenizer changes such text on purpose.
func expectedRoundTrip(name, s string) (string, bool) {
	switch name {
	case "qwen3":
		return norm.NFC.String(s), true
	case "llama2", "tiny-spm":
		return s, !strings.Contains(s, "▁")
	}
	return s, true
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"tiny-bytelevel.json", "tiny-spm.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range loadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := FromJSON(data)
		if err != nil {
			return
		}
		ids := tok.Encode("Hello <s> wörld 123 日本 <|im_start|>\n\n  x", true)
		tok.Decode(ids, false)
		d := tok.NewStreamDecoder(ids[:len(ids)/2], true)
		for _, id := range ids[len(ids)/2:] {
			d.Next(id)
		}
		for id := range int32(min(tok.VocabSize(), 1024)) {
			tok.TokenBytes(id)
			tok.TokenString(id)
			tok.IsSpecial(id)
		}
	})
}

// loadSeeds are small tokenizer.json documents that reach the parser's
// branches and error paths.
var loadSeeds = []string{
	`{}`,
	`null`,
	`{"model":{"type":"Unigram","vocab":[["a",0]]}}`,
	`{"normalizer":{"type":"Sequence","normalizers":[{"type":"Nmt"},{"type":"Precompiled","precompiled_charsmap":""}]},"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"},"model":{"type":"Unigram","unk_id":0,"byte_fallback":true,"vocab":[["<unk>",0],["▁",-1],["a",-2],["▁a",-1.5],["<0x62>",-9]]}}`,
	`{"model":{"unk_id":0,"vocab":[["<unk>",0],["ab",-1],["a",-0.5],["b",-0.5]]}}`,
	`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`,
	`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},"added_tokens":[{"id":3,"content":"<x>","special":true,"lstrip":true,"rstrip":true,"single_word":true}]}`,
	`{"model":{"type":"BPE","vocab":{"a":0},"merges":["a c"]}}`,
	`{"model":{"type":"BPE","vocab":{"a":99999999},"merges":[]}}`,
	`{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`,
	`{"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Lowercase"},{"type":"Strip","strip_left":true,"strip_right":true},{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Whitespace"},{"type":"Digits","individual_digits":true},{"type":"Punctuation","behavior":"Isolated"}]},"model":{"type":"BPE","vocab":{"a":0,"<unk>":1},"merges":[],"unk_token":"<unk>","fuse_unk":true}}`,
	`{"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first"},"model":{"type":"BPE","vocab":{"▁":0,"a":1,"▁a":2},"merges":["▁ a"]}}`,
	`{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a+)+$"},"behavior":"MergedWithNext","invert":true},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
	`{"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"RobertaProcessing","sep":["</s>",1],"cls":["<s>",0]},"decoder":{"type":"WordPiece","prefix":"##"},"model":{"type":"BPE","vocab":{"<s>":0,"</s>":1},"merges":[]}}`,
	`{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"X"}},{"Sequence":{"id":"A"}}],"special_tokens":{"X":{"id":"X","ids":[7]}}},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
	`{"decoder":{"type":"Sequence","decoders":[{"type":"Strip","content":" ","start":1,"stop":1}]},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
}
