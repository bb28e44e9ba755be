package engine

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// BenchmarkEmbedMiniLM embeds sentences with an all-MiniLM-L6-v2-sized
// encoder (6 layers, hidden 384, 12 heads, intermediate 1536; random
// weights, F32) on the CPU executor with its default options, one request
// of 1 and one of 32 sentences of 12 to 16 tokens, and reports sentences/s.
func BenchmarkEmbedMiniLM(b *testing.B) {
	dir := b.TempDir()
	spec := modeltest.Spec{Arch: "bert", Hidden: 384, Intermediate: 1536, Layers: 6, Heads: 12, HeadDim: 32, MaxPos: 512, Seed: 1}
	if err := modeltest.Write(dir, spec); err != nil {
		b.Fatal(err)
	}
	if err := modeltest.WriteSentenceTransformers(dir, modeltest.Pooling{Mode: "mean", Normalize: true, MaxSeqLength: 256}, 384); err != nil {
		b.Fatal(err)
	}
	e, err := New(Options{
		ModelsDir: b.TempDir(),
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) { return cpu.New(m, cpu.Options{}) },
		Pool:      pool.Config{BudgetBytes: 1 << 30},
		Logger:    slog.New(slog.DiscardHandler),
		Folders:   true,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	words := []string{"the", "cat", "sat", "on", "mat", "paris", "is", "capital", "of", "france", "machine", "learning", "model", "search", "query"}
	sentences := make([]string, 32)
	for i := range sentences {
		s := ""
		for w := range 10 + i%5 {
			s += words[(i*7+w*3)%len(words)] + " "
		}
		sentences[i] = s
	}
	ctx := context.Background()
	if _, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: sentences[:1]}); err != nil { // load outside the timing
		b.Fatal(err)
	}
	for _, n := range []int{1, 32} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			tokens := 0
			for b.Loop() {
				res, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: sentences[:n]})
				if err != nil {
					b.Fatal(err)
				}
				tokens += res.PromptTokens
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "sentences/s")
			b.ReportMetric(float64(tokens)/float64(b.N*n), "tokens/sentence")
		})
	}
}
