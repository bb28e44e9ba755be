package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// Ids of testdata/tiny-spm.json.
const (
	tsMeta  = 259 // "▁"
	tsThe   = 294 // "▁the"
	tsOnce  = 303 // "▁once"
	tsMeta2 = 296 // "▁▁"
	tsT     = 279 // "t"
	tsHe    = 293 // "he"
)

func byteID(b byte) int32 { return 3 + int32(b) } // <0xNN> tokens follow <unk> <s> </s>

func TestSentencePieceBPE(t *testing.T) {
	tok := loadFixture(t, "tiny-spm.json")
	noFallback := variant(t, "tiny-spm.json", func(doc map[string]any) {
		doc["model"].(map[string]any)["byte_fallback"] = false
	})
	noFuse := variant(t, "tiny-spm.json", func(doc map[string]any) {
		m := doc["model"].(map[string]any)
		m["byte_fallback"], m["fuse_unk"] = false, false
	})
	tests := []struct {
		name string
		tok  *Tokenizer
		text string
		add  bool
		want []int32
	}{
		{"words with BOS", tok, "the once", true, []int32{1, tsThe, tsOnce}},
		{"space runs merge", tok, "  the", false, []int32{tsMeta2, tsThe}},
		{"byte fallback", tok, "é", false, []int32{tsMeta, byteID(0xC3), byteID(0xA9)}},
		{"fused unk", noFallback, "éé", false, []int32{tsMeta, 0}},
		{"unfused unk", noFuse, "éé", false, []int32{tsMeta, 0, 0}},
		{"added token splits the text", tok, "the<s>the", false, []int32{tsThe, 1, tsThe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tok.Encode(tt.text, tt.add); !slices.Equal(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
	decodes := []struct {
		ids  []int32
		skip bool
		want string
	}{
		{[]int32{1, tsThe, tsOnce}, false, "<s> the once"},
		{[]int32{1, tsThe, tsOnce}, true, "the once"},
		{[]int32{tsMeta2, tsThe}, true, "  the"},
		{[]int32{tsMeta, byteID(0xC3), byteID(0xA9)}, true, "é"},
		{[]int32{byteID(0xC3)}, true, "\uFFFD"},
		{[]int32{9999, -1, tsThe}, true, "the"},
	}
	for _, d := range decodes {
		if got := tok.Decode(d.ids, d.skip); got != d.want {
			t.Errorf("Decode(%v, %v) = %q, want %q", d.ids, d.skip, got, d.want)
		}
	}
}

// TestMetaspacePreTokenizer covers the newer SentencePiece layout:
// Metaspace with prepend_scheme "first" instead of Prepend+Replace.
func TestMetaspacePreTokenizer(t *testing.T) {
	tok := variant(t, "tiny-spm.json", func(doc map[string]any) {
		doc["normalizer"] = nil
		doc["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true}
		doc["decoder"] = map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true}
	})
	tests := []struct {
		text string
		want []int32
	}{
		{"the once", []int32{tsThe, tsOnce}},
		// Only the text at the very start gets a prepended ▁: after <s>,
		// "the" is t + he.
		{"<s>the", []int32{1, tsT, tsHe}},
	}
	for _, tt := range tests {
		if got := tok.Encode(tt.text, false); !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	if got := tok.Decode([]int32{tsThe, tsOnce}, false); got != "the once" {
		t.Errorf("Decode = %q, want the first ▁ dropped", got)
	}
	checkStream(t, tok, []int32{tsMeta, tsThe, tsOnce, tsMeta2}, false)
}

// sharedModel finds /work/shared/models/<name> from this package's source
// directory (the repository sits next to shared/).
func sharedModel(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(testenv.SharedDir(), "models", name)
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("shared model %s not available: %v", name, err))
	}
	return dir
}

func TestStories260K(t *testing.T) {
	tok, err := Load(sharedModel(t, "stories260K"))
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("Once upon a time", true)
	if want := []int32{1, 403, 407, 261, 378}; !slices.Equal(ids, want) {
		t.Errorf("Encode = %v, want %v", ids, want)
	}
	if got := tok.Decode(ids, true); got != "Once upon a time" {
		t.Errorf("Decode = %q", got)
	}
	if got := tok.EOS(); !slices.Equal(got, []int32{2, 1}) {
		t.Errorf("EOS = %v, want </s> then generation_config's [2, 1]", got)
	}
	if bos, ok := tok.BOS(); !ok || bos != 1 || tok.BOSToken() != "<s>" || tok.EOSToken() != "</s>" || !tok.AddsBOS() {
		t.Errorf("BOS = %d %v %q %q", bos, ok, tok.BOSToken(), tok.EOSToken())
	}
	if tok.VocabSize() != 512 {
		t.Errorf("VocabSize = %d, want 512", tok.VocabSize())
	}
}
