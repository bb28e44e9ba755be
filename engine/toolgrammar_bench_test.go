package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/sample"
)

// BenchmarkToolCallMask forces a tool call over Qwen's 151k-token vocabulary
// with random logits, as the run loop does without the model: ns/token is the
// whole step (mask, sample, accept), mask-ns/token the mask alone (what
// the constraint adds before the sampler). The first
// iteration builds the grammar's token tables; later ones reuse them, as a
// client that sends the same tools every turn does.
func BenchmarkToolCallMask(b *testing.B) {
	for _, c := range []struct {
		name   string
		format chat.Format
		tools  []Tool
	}{
		{"hermes", chat.FormatHermes, weatherTools},
		{"qwen3-coder", chat.FormatQwen3Coder, coderTools},
	} {
		b.Run(c.name, func(b *testing.B) {
			l, err := openLoaded(context.Background(), "qwen", qwenModel(b, ""), cpuRunner, SchedConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			spec, err := l.constraintFor(&ChatRequest{Tools: c.tools, ToolChoice: ToolChoice{Mode: "required"}}, c.format)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			logits := make([]float32, l.m.Config.VocabSize)
			for i := range logits {
				logits[i] = float32(r.NormFloat64())
			}
			var tokens int
			var masking time.Duration
			b.ResetTimer()
			for i := range b.N {
				seed := int64(i)
				smp, err := sample.New(sample.Params{Temperature: 1, Seed: &seed}, len(logits))
				if err != nil {
					b.Fatal(err)
				}
				con, err := l.newConstraint(&job{constrain: spec})
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < 200 && !con.complete(); n++ {
					var drawing time.Duration
					start := time.Now()
					tok, err := con.sample(func(m sample.Mask) (sample.Token, error) {
						t0 := time.Now()
						defer func() { drawing += time.Since(t0) }()
						return smp.Sample(logits, nil, m)
					})
					if err != nil {
						b.Fatal(err)
					}
					masking += time.Since(start) - drawing
					if l.eos[tok.ID] {
						break
					}
					if err := con.accept(tok.ID); err != nil {
						b.Fatal(err)
					}
					tokens++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(tokens), "ns/token")
			b.ReportMetric(float64(masking.Nanoseconds())/float64(tokens), "mask-ns/token")
		})
	}
}
