package cpu_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// benchSpecs are a mid-size random Llama (31M parameters: hidden 768, 4
// layers, GQA 12/4, vocab 4096) in each stored precision: large enough that
// matrix products dominate, small enough to generate in seconds.
var benchSpecs = []struct {
	name string
	spec modeltest.Spec
}{
	{"f32", modeltest.Spec{DType: model.F32}},
	{"bf16", modeltest.Spec{DType: model.BF16}},
	{"f16", modeltest.Spec{DType: model.F16}},
	{"q8", modeltest.Spec{DType: model.BF16, QuantBits: 8, GroupSize: 64}},
	{"q4", modeltest.Spec{DType: model.BF16, QuantBits: 4, GroupSize: 64}},
}

// openBench writes the model once per machine (under the temp dir, reused by
// later runs so A/B comparisons read the same files) and loads it on the CPU.
func openBench(b *testing.B, name string, s modeltest.Spec) model.Sequence {
	r := openBenchRunner(b, name, s)
	seq, err := r.NewSequence(1024)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = seq.Close() })
	return seq
}

// openRunner loads the model in dir on the CPU with the default options.
func openRunner(b *testing.B, dir string) model.Runner {
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	r, err := cpu.New(m, cpu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r
}

// openBenchRunner is openBench's runner, for benchmarks of several sequences.
func openBenchRunner(b *testing.B, name string, s modeltest.Spec) model.Runner {
	s.Hidden, s.Intermediate, s.Layers, s.Heads, s.KVHeads, s.HeadDim = 768, 2048, 4, 12, 4, 64
	s.Vocab, s.MaxPos, s.Seed = 4096, 1024, 1
	dir := filepath.Join(os.TempDir(), "mlx-manager-cpu-bench-"+name)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := modeltest.Write(dir, s); err != nil {
			b.Fatal(err)
		}
	}
	return openRunner(b, dir)
}

func benchTokens(n int) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = int32((i*37 + 11) % 4096)
	}
	return t
}

// BenchmarkDecode is one token per step after a 32-token prompt.
func BenchmarkDecode(b *testing.B) {
	for _, bs := range benchSpecs {
		b.Run(bs.name, func(b *testing.B) {
			seq := openBench(b, bs.name, bs.spec)
			ctx := context.Background()
			if _, err := seq.Forward(ctx, benchTokens(32)); err != nil {
				b.Fatal(err)
			}
			start := cpuTime()
			for i := 0; b.Loop(); i++ {
				if seq.Len() >= 512 {
					if err := seq.Truncate(32); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := seq.Forward(ctx, []int32{int32(i % 4096)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			reportCPU(b, start, b.N)
		})
	}
}

// cpuTime is the process's user+system CPU time: on a machine shared with
// other loads it varies far less than wall time, so A/B comparisons run with
// -test.cpu 1 and compare cpu-µs/tok.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, tokens int) {
	if d := cpuTime() - start; d > 0 && start > 0 {
		b.ReportMetric(float64(d.Microseconds())/float64(tokens), "cpu-µs/tok")
	}
}

// BenchmarkPrefill is a 128-token prompt from an empty cache.
func BenchmarkPrefill(b *testing.B) {
	const n = 128
	for _, bs := range benchSpecs {
		b.Run(bs.name, func(b *testing.B) {
			seq := openBench(b, bs.name, bs.spec)
			ctx := context.Background()
			toks := benchTokens(n)
			start := cpuTime()
			for b.Loop() {
				if err := seq.Truncate(0); err != nil {
					b.Fatal(err)
				}
				if _, err := seq.Forward(ctx, toks); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tok/s")
			reportCPU(b, start, n*b.N)
		})
	}
}

// BenchmarkPrefillModel is a -prefill-tokens prompt (default 512, as the
// bench's pp512) from an empty cache on the -bench-model folder, e.g. one of
// mlx-manager bench's 0.5B models: the prefill to profile (-cpuprofile) and
// to compare per CPU second (cpu-µs/tok). Without -bench-model it runs
// the generated f32 model.
func BenchmarkPrefillModel(b *testing.B) {
	n := *prefillTokens
	var r model.Runner
	if *benchModel != "" {
		r = openRunner(b, *benchModel)
	} else {
		r = openBenchRunner(b, benchSpecs[0].name, benchSpecs[0].spec)
	}
	seq, err := r.NewSequence(n + 16)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = seq.Close() })
	ctx := context.Background()
	toks := benchTokens(n)
	start := cpuTime()
	for b.Loop() {
		if err := seq.Truncate(0); err != nil {
			b.Fatal(err)
		}
		if _, err := seq.Forward(ctx, toks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tok/s")
	reportCPU(b, start, n*b.N)
}

var prefillTokens = flag.Int("prefill-tokens", 512, "prompt length of BenchmarkPrefillModel")

// benchModel is a model folder BenchmarkDecodeBatch runs instead of the
// generated ones, e.g. one of mlx-manager bench's 0.5B models.
var benchModel = flag.String("bench-model", "", "model folder for BenchmarkDecodeBatch instead of the generated 31M-parameter ones")

// benchKernels lists kernel sets for BenchmarkDecodeBatch to compare,
// interleaved per case (each case runs every set before the next case).
var benchKernels = flag.String("bench-kernels", "", "comma-separated kernel sets (kern.Sets) for BenchmarkDecodeBatch to compare; default the active one")

// benchContext is the prompt BenchmarkDecodeBatch's sequences start from.
var benchContext = flag.Int("bench-context", 32, "prompt length of each BenchmarkDecodeBatch sequence; decode runs on to 480 positions past it, then the cache is cut back to it")

// BenchmarkDecodeBatch is one decode step of n sequences through ForwardBatch
// (n = 1: Forward), each after its own -bench-context prompt (default 32
// tokens; 1536 decodes where attention reads a large cache): what
// engine/sched runs for n concurrent requests. tok/s counts every
// sequence's token; cpu-µs/tok (CPU time per token) is the figure to compare on a busy machine
// (with -test.cpu 1, so that no idle worker spins).
func BenchmarkDecodeBatch(b *testing.B) {
	sets := []string{""}
	if *benchKernels != "" {
		sets = nil
		for _, s := range strings.Split(*benchKernels, ",") {
			sets = append(sets, "/"+s)
		}
	}
	specs := benchSpecs
	if *benchModel != "" {
		specs = append(specs[:0:0], benchSpecs[0])
		specs[0].name = filepath.Base(*benchModel)
	}
	for _, bs := range specs {
		for _, n := range []int{1, 2, 4, 8} {
			for _, set := range sets {
				b.Run(fmt.Sprintf("%s/n%d%s", bs.name, n, set), func(b *testing.B) {
					if set != "" {
						saved := kern.Backend()
						if err := kern.Use(set[1:]); err != nil {
							b.Fatal(err)
						}
						defer func() { _ = kern.Use(saved) }()
					}
					var r model.Runner
					if *benchModel != "" {
						r = openRunner(b, *benchModel)
					} else {
						r = openBenchRunner(b, bs.name, bs.spec)
					}
					ctx := context.Background()
					seqs := make([]model.Sequence, n)
					toks := make([][]int32, n)
					for i := range seqs {
						s, err := r.NewSequence(max(1024, *benchContext+512))
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(func() { _ = s.Close() })
						if _, err := s.Forward(ctx, benchTokens(*benchContext + i)[i:]); err != nil {
							b.Fatal(err)
						}
						seqs[i], toks[i] = s, []int32{int32(i)}
					}
					batcher := r.(model.Batcher)
					start := cpuTime()
					for i := 0; b.Loop(); i++ {
						if seqs[0].Len() >= *benchContext+480 {
							for _, s := range seqs {
								if err := s.Truncate(*benchContext); err != nil {
									b.Fatal(err)
								}
							}
						}
						for j := range toks {
							toks[j][0] = int32((i*7 + j) % 4096)
						}
						if _, err := batcher.ForwardBatch(ctx, seqs, toks); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tok/s")
					reportCPU(b, start, n*b.N)
				})
			}
		}
	}
}
