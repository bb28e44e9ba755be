//go:build !race

// Numeric only (the graph executor's logits with and without prefill chunks and
// shape buckets): make test-norace runs these without the race detector, which
// made them twenty times slower; the runner's locking is raced by errors_test.go.

package graph

import (
	"testing"
)

func TestChunkingAgrees(t *testing.T) {
	for _, variant := range []struct {
		name         string
		qkNorm, bias bool
		window       int
	}{
		{name: "llama"}, {name: "qwen2-bias", bias: true}, {name: "qwen3-qknorm", qkNorm: true}, {name: "window", window: 5},
	} {
		t.Run(variant.name, func(t *testing.T) {
			s := tinySpec
			s.window = variant.window
			r := newTinyRunner(t, s, variant.qkNorm, variant.bias)
			toks := tokensFor(75, s.vocab) // crosses maxChunk and the first cache bucket
			whole := forwardAll(t, r, [][]int32{toks})
			var single [][]int32
			for i := range toks {
				single = append(single, toks[i:i+1])
			}
			cases := map[string][][]int32{
				"one by one": single,
				"uneven":     {toks[:5], toks[5:6], toks[6:70], toks[70:]},
			}
			for name, steps := range cases {
				if d := maxAbsDiff(whole, forwardAll(t, r, steps)); d > 1e-4 {
					t.Errorf("%s: logits differ from one call by %g", name, d)
				}
			}
		})
	}
}

// TestBucketsAgree runs the coarse buckets used with XLA on the pure-Go
// backend: more padding rows and cache slots must not change the logits.
func TestBucketsAgree(t *testing.T) {
	toks := tokensFor(80, tinySpec.vocab)
	steps := [][]int32{toks[:3], toks[3:4], toks[4:70], toks[70:71], toks[71:]}
	fine := newTinyRunner(t, tinySpec, false, true)
	coarse := newTinyRunner(t, tinySpec, false, true)
	coarse.buckets = coarseBuckets
	if d := maxAbsDiff(forwardAll(t, fine, steps), forwardAll(t, coarse, steps)); d > 1e-4 {
		t.Errorf("coarse buckets change logits by %g", d)
	}
}
