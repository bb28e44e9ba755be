package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/sched"
)

var benchPrecision = flag.String("bench-precision", "q8", "precision of the generated model BenchmarkConcurrency runs (DefaultShape, the bench command's cache)")

// BenchmarkConcurrency is `mlx-manager bench --concurrency` at 1, 4 and 8 on
// the bench command's generated model, one sub-benchmark per level, for pprof:
// one iteration is one concurrentRun (32-token prompts, 128 tokens each).
func BenchmarkConcurrency(b *testing.B) {
	cache, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	dir, _, err := ensureModel(filepath.Join(cache, "mlx-manager", "bench"), *benchPrecision, DefaultShape)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	m, err := model.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	r, err := cpu.New(m, cpu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, n := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
			// As RunConcurrency: one scheduler for every run, warmed up.
			s := sched.New(r, sched.Config{Slots: n})
			defer s.Close()
			if _, err := concurrentRun(ctx, s, r, m.Config.VocabSize, n, defaultConcurrentPrompt, 128); err != nil {
				b.Fatal(err)
			}
			var wall, cpu float64
			var batch, busy float64
			for b.Loop() {
				c, err := concurrentRun(ctx, s, r, m.Config.VocabSize, n, defaultConcurrentPrompt, 128)
				if err != nil {
					b.Fatal(err)
				}
				wall += c.wall.Seconds()
				cpu += c.cpu.Seconds()
				batch += c.meanBatch
				busy += c.busy.Seconds()
			}
			tok := float64(b.N * n * 128)
			b.ReportMetric(tok/wall, "tok/s")
			b.ReportMetric(tok*float64(runtime.GOMAXPROCS(0))/cpu, "cpu-tok/s")
			b.ReportMetric(batch/float64(b.N), "batch")
			b.ReportMetric(100*(1-busy/wall), "idle%")
		})
	}
}
