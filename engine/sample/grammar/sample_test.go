//go:build !race

// One goroutine throughout, nine times slower under the race detector: make
// test-norace runs it without it.

package grammar

import (
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/sample"
)

// TestConstrainedSampling runs the two packages together as the engine does:
// the matcher's Bitset is the sampler's Mask, logits are random, and the
// output must still satisfy the schema.
func TestConstrainedSampling(t *testing.T) {
	m, v := sharedMasker(t)
	schema := walkSchemas[6]
	g, err := FromSchema([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	sv, _ := parseValue([]byte(schema))
	seed := int64(17)
	s, err := sample.New(sample.Params{Temperature: 1, TopP: 0.95, Seed: &seed}, m.Size())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 17))
	logits := make([]float32, m.Size())
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	logits[v.eos] += 8 // a model that wants to stop once it may
	mask := NewBitset(m.Size())
	for run := range 3 {
		mt, _ := m.NewMatcher(g)
		var out []byte
		var history []int32
		for step := 0; ; step++ {
			if step > 400 {
				t.Fatalf("run %d: no end after 400 tokens: %q", run, out)
			}
			if err := mt.Mask(mask); err != nil {
				t.Fatal(err)
			}
			tok, err := s.Sample(logits, history, sample.Mask(mask))
			if err != nil {
				t.Fatal(err)
			}
			if err := mt.Accept(tok.ID); err != nil {
				t.Fatalf("sampled a token the mask forbids: %v", err)
			}
			if tok.ID == v.eos {
				break
			}
			history = append(history, tok.ID)
			out = append(out, m.vocab[tok.ID]...)
		}
		if err := validateText(sv, out); err != nil {
			t.Fatalf("run %d: %s: %v", run, out, err)
		}
	}
}
