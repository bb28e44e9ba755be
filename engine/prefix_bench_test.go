package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// BenchmarkPrefixReuseTTFT: the time to first token of the next turn of a
// conversation of about 2,000 tokens, with the previous turn's KV kept
// (prefix reuse) and without (every turn prefills the whole conversation).
// Each iteration asks a new follow-up, so only the conversation so far can be
// reused. The model is a generated Llama of 4 layers, hidden 512, in F32: big
// enough that prefill, not overhead, is what a turn costs.
func BenchmarkPrefixReuseTTFT(b *testing.B) {
	dir := b.TempDir()
	if err := modeltest.Write(dir, modeltest.Spec{Seed: 7, Hidden: 512, Intermediate: 1376, Layers: 4,
		Heads: 8, KVHeads: 4, HeadDim: 64, MaxPos: 4096}); err != nil {
		b.Fatal(err)
	}
	sentence := "The gardener told the children how the seeds grow into tall plants in the spring. "
	history := []Message{{Role: "system", Content: "Answer in one short sentence."}}
	for i := range 5 {
		history = append(history,
			Message{Role: "user", Content: fmt.Sprintf("Question %d: %s", i, strings.Repeat(sentence, 4))},
			Message{Role: "assistant", Content: strings.Repeat(sentence, 4)})
	}
	for _, tc := range []struct {
		name   string
		prefix PrefixConfig
	}{{"reuse", PrefixConfig{}}, {"no-reuse", PrefixConfig{Seqs: -1}}} {
		b.Run(tc.name, func(b *testing.B) {
			e, err := New(Options{ModelsDir: b.TempDir(), Folders: true, Logger: slog.New(slog.DiscardHandler),
				Pool:  pool.Config{BudgetBytes: 1 << 30},
				Sched: SchedConfig{Prefix: tc.prefix, Chunk: 512},
				NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
					return cpu.New(m, cpu.Options{Threads: 2, Logger: slog.New(slog.DiscardHandler)})
				}})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			ask := func(follow string) (ttft time.Duration, res *Result) {
				msgs := append(history[:len(history):len(history)], Message{Role: "user", Content: follow})
				start := time.Now()
				res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: msgs,
					Options: GenOptions{MaxTokens: 1}}, func(Delta) error {
					if ttft == 0 {
						ttft = time.Since(start)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				return ttft, res
			}
			_, first := ask("Warm up.") // loads the model and, with reuse, keeps the conversation
			var total time.Duration
			var cached int
			b.ResetTimer()
			for i := range b.N {
				ttft, res := ask(fmt.Sprintf("And what happened on day %d?", i))
				total += ttft
				cached = res.Usage.CachedTokens
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ttft-ms")
			b.ReportMetric(float64(first.Usage.PromptTokens), "prompt-tokens")
			b.ReportMetric(float64(cached), "cached-tokens")
		})
	}
}
