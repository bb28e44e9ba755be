//go:build !race

// Random walks through real schemas over Qwen3's 151,669 tokens, on one
// goroutine: make test-norace runs them without the race detector, which made
// them three to ten times slower. The walks that share matchers across goroutines are
// concurrent_test.go's, under the race detector.

package grammar

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

func TestRandomWalksValidate(t *testing.T) {
	m, v := sharedMasker(t)
	for i, schema := range walkSchemas {
		t.Run(schema, func(t *testing.T) {
			g, err := FromSchema([]byte(schema))
			if err != nil {
				t.Fatal(err)
			}
			sv, _ := parseValue([]byte(schema))
			r := rand.New(rand.NewPCG(uint64(i), 99))
			done := 0
			for range 12 {
				text, ok := randomWalk(t, m, v.eos, g, r, 300)
				if !ok {
					continue
				}
				done++
				if err := validateText(sv, text); err != nil {
					t.Fatalf("walk produced invalid output %s: %v", text, err)
				}
			}
			if done == 0 {
				t.Fatal("no walk finished")
			}
			t.Logf("%d of 12 walks finished and validated", done)
		})
	}
}

func TestRandomWalksJSON(t *testing.T) {
	m, v := sharedMasker(t)
	r := rand.New(rand.NewPCG(5, 5))
	for _, g := range []*Grammar{JSON(), JSONObject()} {
		done := 0
		for range 15 {
			text, ok := randomWalk(t, m, v.eos, g, r, 300)
			if !ok {
				continue
			}
			done++
			var x any
			if err := json.Unmarshal(text, &x); err != nil {
				t.Fatalf("invalid JSON %q: %v", text, err)
			}
			if _, isObj := x.(map[string]any); g == JSONObject() && !isObj {
				t.Fatalf("JSONObject produced %s", text)
			}
		}
		if done == 0 {
			t.Fatal("no walk finished")
		}
	}
}

// TestMaskMatchesBruteForce checks every token of a 20k-token vocabulary
// against Parser.Valid at states met along real walks.
func TestMaskMatchesBruteForce(t *testing.T) {
	_, v := sharedMasker(t)
	vocab, special := v.vocab[:20000], v.special[:20000]
	vocab = append(vocab[:len(vocab):len(vocab)], []byte("<eos>"))
	special = append(special[:len(special):len(special)], true)
	eos := int32(len(vocab) - 1)
	m, err := NewMasker(vocab, special, eos)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, schema := range []string{walkSchemas[1], walkSchemas[4], walkSchemas[6], walkSchemas[8], `{"type":"string","maxLength":3}`, `{"type":"array","items":{"type":"string","minLength":2,"maxLength":40}}`} {
		g, err := FromSchema([]byte(schema))
		if err != nil {
			t.Fatal(err)
		}
		mt, _ := m.NewMatcher(g)
		mask := NewBitset(m.Size())
		for step := 0; step < 40; step++ {
			if err := mt.Mask(mask); err != nil {
				t.Fatal(err)
			}
			for id := range int32(len(vocab)) {
				want := !special[id] && mt.p.Valid(vocab[id])
				if id == eos {
					want = mt.Done()
				}
				if mask.Has(id) != want {
					t.Fatalf("%s step %d: token %d %q mask=%v want %v", schema, step, id, vocab[id], mask.Has(id), want)
				}
			}
			id := pick(r, mask)
			if id < 0 || id == eos {
				break
			}
			if err := mt.Accept(id); err != nil {
				t.Fatal(err)
			}
		}
	}
}
