package graph

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkDecodeMid measures decode on a random 53M-parameter model
// (hidden 1024, 4 layers, GQA 16/4), where matrix products dominate.
func BenchmarkDecodeMid(b *testing.B) {
	s := spec{layers: 4, hidden: 1024, inter: 2816, heads: 16, kvHeads: 4, headDim: 64, vocab: 8000, eps: 1e-5}
	r, err := newTestRunner(context.Background(), s, randomWeights(s, 1, false, false),
		Options{Backend: "go"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	seq, err := r.NewSequence(1024)
	if err != nil {
		b.Fatal(err)
	}
	defer seq.Close()
	ctx := context.Background()
	if _, err := seq.Forward(ctx, tokensFor(20, s.vocab)); err != nil {
		b.Fatal(err)
	}
	// One step compiles the decode graph; then drop the setup's garbage.
	if _, err := seq.Forward(ctx, []int32{1}); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	for i := 0; b.Loop(); i++ {
		if seq.Len() >= 1000 {
			if err := seq.Truncate(20); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := seq.Forward(ctx, []int32{int32(i % s.vocab)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
