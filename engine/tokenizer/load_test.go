package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// tokenizerDir writes tiny-spm.json and the given config files to a temp dir.
func tokenizerDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/tiny-spm.json")
	if err != nil {
		t.Fatal(err)
	}
	files["tokenizer.json"] = string(data)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		encode  []int32 // Encode("the", true)
		bos     string
		eos     []int32
		special int32 // a token the config makes special, or -1
	}{
		{
			name:   "template only",
			files:  map[string]string{},
			encode: []int32{1, tsThe}, bos: "<s>", special: -1,
		},
		{
			name: "added token dicts and generation eos list",
			files: map[string]string{
				"tokenizer_config.json":  `{"bos_token":{"__type":"AddedToken","content":"<s>"},"eos_token":{"content":"</s>"},"tokenizer_class":"PreTrainedTokenizerFast"}`,
				"generation_config.json": `{"eos_token_id":[2,1]}`,
			},
			encode: []int32{1, tsThe}, bos: "<s>", eos: []int32{2, 1}, special: -1,
		},
		{
			name: "llama class without BOS",
			files: map[string]string{
				"tokenizer_config.json": `{"bos_token":"<s>","eos_token":"</s>","add_bos_token":false,"tokenizer_class":"LlamaTokenizerFast"}`,
			},
			encode: []int32{tsThe}, bos: "<s>", eos: []int32{2}, special: -1,
		},
		{
			name: "llama class with EOS, extra special token",
			files: map[string]string{
				"tokenizer_config.json":  `{"bos_token":"<s>","eos_token":"</s>","add_eos_token":true,"tokenizer_class":"LlamaTokenizer","additional_special_tokens":["▁once"]}`,
				"generation_config.json": `{"eos_token_id":2}`,
			},
			encode: []int32{1, tsThe, 2}, bos: "<s>", eos: []int32{2}, special: tsOnce,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Load(tokenizerDir(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode("the", true); !slices.Equal(got, tt.encode) {
				t.Errorf("Encode = %v, want %v", got, tt.encode)
			}
			if tok.BOSToken() != tt.bos {
				t.Errorf("BOSToken = %q, want %q", tok.BOSToken(), tt.bos)
			}
			if tt.eos != nil && !slices.Equal(tok.EOS(), tt.eos) {
				t.Errorf("EOS = %v, want %v", tok.EOS(), tt.eos)
			}
			if tt.special >= 0 && !tok.IsSpecial(tt.special) {
				t.Errorf("token %d should be special", tt.special)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name        string
		json        string
		unsupported bool
	}{
		{"not json", `{`, false},
		{"empty unigram", `{"model":{"type":"Unigram","vocab":[]}}`, false},
		{"unigram without unk_id", `{"model":{"type":"Unigram","vocab":[["a",-1]]}}`, false},
		{"unigram unk_id out of range", `{"model":{"type":"Unigram","unk_id":1,"vocab":[["a",-1]]}}`, false},
		{"unigram bad piece", `{"model":{"type":"Unigram","unk_id":0,"vocab":[[1,-1]]}}`, false},
		{"bad charsmap", `{"normalizer":{"type":"Precompiled","precompiled_charsmap":"AAAA"},"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1]]}}`, false},
		{"unknown model", `{"model":{"type":"WordLevel","vocab":{}}}`, true},
		{"id out of range", `{"model":{"type":"BPE","vocab":{"a":99999999},"merges":[]}}`, false},
		{"negative id", `{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`, false},
		{"merge outside vocab", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}`, false},
		{"bad regex", `{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(("}},"model":{"type":"BPE","vocab":{},"merges":[]}}`, false},
		{"unknown decoder", `{"decoder":{"type":"CTC"},"model":{"type":"BPE","vocab":{},"merges":[]}}`, true},
		{"trailing strip", `{"decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Strip","content":" ","start":0,"stop":1}]},"model":{"type":"BPE","vocab":{},"merges":[]}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromJSON([]byte(tt.json))
			if err == nil {
				t.Fatal("FromJSON succeeded")
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v", err, !tt.unsupported)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("Load of an empty dir: %v", err)
	}
}

func TestTokenAccessors(t *testing.T) {
	tok := refTokenizer(t, "llama2")
	tests := []struct {
		token string
		bytes string
	}{
		{"▁the", " the"},
		{"<0x0A>", "\n"},
		{"<s>", "<s>"},
		{"</s>", "</s>"},
	}
	for _, tt := range tests {
		id, ok := tok.TokenID(tt.token)
		if !ok {
			t.Fatalf("TokenID(%q) not found", tt.token)
		}
		if got := tok.TokenString(id); got != tt.token {
			t.Errorf("TokenString(%d) = %q, want %q", id, got, tt.token)
		}
		if got := string(tok.TokenBytes(id)); got != tt.bytes {
			t.Errorf("TokenBytes(%q) = %q, want %q", tt.token, got, tt.bytes)
		}
	}
	if tok.TokenBytes(-1) != nil || tok.TokenString(1<<30) != "" || tok.IsSpecial(-5) {
		t.Error("accessors accept ids out of range")
	}
	if !tok.IsSpecial(2) || tok.IsSpecial(3) {
		t.Error("IsSpecial: </s> is special, <0x00> is not")
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := refTokenizer(t, "llama2")
	rows := loadGolden(t)["llama2"]
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range rows {
				r := rows[(i+w*31)%len(rows)]
				if got := tok.Encode(r.Text, true); !slices.Equal(got, r.WithSpecial) {
					t.Errorf("concurrent Encode(%q) = %v", r.Text, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestPostProcessorSequence(t *testing.T) {
	tok := variant(t, "tiny-spm.json", func(doc map[string]any) {
		doc["post_processor"] = map[string]any{"type": "Sequence", "processors": []any{
			map[string]any{"type": "BertProcessing", "cls": []any{"<s>", 1}, "sep": []any{"</s>", 2}},
			map[string]any{"type": "ByteLevel"},
			map[string]any{"type": "RobertaProcessing", "cls": []any{"<unk>", 0}, "sep": []any{"<unk>", 0}},
		}}
	})
	if got, want := tok.Encode("the", true), []int32{0, 1, tsThe, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v (later processors wrap earlier ones)", got, want)
	}
}
