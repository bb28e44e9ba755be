package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// parityGolden is testdata/parity-golden.json, written by
// testdata/ref/parity.mjs with the Rust tokenizers library.
type parityGolden struct {
	Tokenizers string `json:"tokenizers"`
	Variants   map[string]struct {
		Rows  []goldenRow `json:"rows"`
		Pairs []struct {
			A         string  `json:"a"`
			B         string  `json:"b"`
			IDs       []int32 `json:"ids"`
			TypeIDs   []int32 `json:"type_ids"`
			Truncated map[string]struct {
				Pair        []int32 `json:"pair"`
				PairTypeIDs []int32 `json:"pair_type_ids"`
				Single      []int32 `json:"single"`
			} `json:"truncated"`
		} `json:"pairs"`
	} `json:"variants"`
}

var (
	parityOnce  sync.Once
	parityGold  *parityGolden
	parityToks  map[string]*Tokenizer
	parityError error
)

// parityFixtures loads the golden file and builds every variant once per
// test binary: the base files are large.
func parityFixtures(t testing.TB) (*parityGolden, map[string]*Tokenizer) {
	t.Helper()
	parityOnce.Do(func() {
		parityGold, parityToks, parityError = loadParityFixtures()
	})
	if parityError != nil {
		t.Fatal(parityError)
	}
	return parityGold, parityToks
}

func loadParityFixtures(only ...string) (*parityGolden, map[string]*Tokenizer, error) {
	data, err := os.ReadFile("testdata/parity-golden.json")
	if err != nil {
		return nil, nil, err
	}
	var g parityGolden
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, nil, fmt.Errorf("parity-golden.json: %w", err)
	}
	data, err = os.ReadFile("testdata/parity-variants.json")
	if err != nil {
		return nil, nil, err
	}
	var vs struct {
		Variants map[string]map[string]json.RawMessage `json:"variants"`
	}
	if err := json.Unmarshal(data, &vs); err != nil {
		return nil, nil, fmt.Errorf("parity-variants.json: %w", err)
	}
	toks := map[string]*Tokenizer{}
	for name, v := range vs.Variants {
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		file, err := applyVariant(v)
		if err != nil {
			return nil, nil, fmt.Errorf("variant %s: %w", name, err)
		}
		if toks[name], err = FromJSON(file); err != nil {
			return nil, nil, fmt.Errorf("variant %s: %w", name, err)
		}
	}
	return &g, toks, nil
}

// someParityFixtures builds only the named variants, for a test that needs
// no other: the whole set takes seconds to build under the race detector.
func someParityFixtures(t testing.TB, names ...string) (*parityGolden, map[string]*Tokenizer) {
	t.Helper()
	g, toks, err := loadParityFixtures(names...)
	if err != nil {
		t.Fatal(err)
	}
	return g, toks
}

// applyVariant mirrors patch() in testdata/ref/parity.mjs.
func applyVariant(v map[string]json.RawMessage) ([]byte, error) {
	var base string
	if err := json.Unmarshal(v["base"], &base); err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", base))
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(base, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	var norm struct {
		Charsmap string `json:"precompiled_charsmap"`
	}
	if err := json.Unmarshal(f["normalizer"], &norm); err != nil {
		return nil, err
	}
	charsmap, _ := json.Marshal(norm.Charsmap)
	for _, key := range []string{"normalizer", "pre_tokenizer", "decoder"} {
		if c, ok := v[key]; ok {
			f[key] = bytes.ReplaceAll(c, []byte(`"PRECOMPILED"`), charsmap)
		}
	}
	if string(v["byte_pieces"]) == "true" {
		if err := addBytePieces(f); err != nil {
			return nil, err
		}
	}
	return json.Marshal(f)
}

// addBytePieces inserts the 256 <0xNN> pieces before the last piece
// (<mask>), moves that piece's added token to the new last id, and turns
// byte_fallback on.
func addBytePieces(f map[string]json.RawMessage) error {
	var model map[string]json.RawMessage
	if err := json.Unmarshal(f["model"], &model); err != nil {
		return err
	}
	var vocab [][2]any
	if err := json.Unmarshal(model["vocab"], &vocab); err != nil {
		return err
	}
	mask := vocab[len(vocab)-1]
	vocab = vocab[:len(vocab)-1]
	for b := range 256 {
		vocab = append(vocab, [2]any{fmt.Sprintf("<0x%02X>", b), -30.0})
	}
	vocab = append(vocab, mask)
	var added []map[string]any
	if err := json.Unmarshal(f["added_tokens"], &added); err != nil {
		return err
	}
	for _, a := range added {
		if a["content"] == mask[0] {
			a["id"] = len(vocab) - 1
		}
	}
	model["vocab"], _ = json.Marshal(vocab)
	model["byte_fallback"] = json.RawMessage("true")
	f["model"], _ = json.Marshal(model)
	f["added_tokens"], _ = json.Marshal(added)
	return nil
}

func hasAddedToken(tok *Tokenizer, s string) bool {
	for _, a := range tok.added {
		if strings.Contains(s, a.content) {
			return true
		}
	}
	return false
}
