package kern

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchMats builds enough matrices of one type that cycling through them
// streams from memory rather than from the last-level cache, as decode does.
func benchMats(d DType, rows, cols int) []*Mat {
	rng := rand.New(rand.NewPCG(7, 7))
	one := randMat(rng, d, rows, cols, 64, F16)
	n := int(256<<20/one.Bytes()) + 1
	ms := []*Mat{one}
	for len(ms) < n {
		c := *one
		switch d {
		case F32:
			c.F32 = append([]float32(nil), one.F32...)
		case F16, BF16:
			c.U16 = append([]uint16(nil), one.U16...)
		default:
			c.Q = append([]byte(nil), one.Q...)
		}
		ms = append(ms, &c)
	}
	return ms
}

var benchTypes = []DType{F32, F16, BF16, Q8, Q4}

// BenchmarkMatVecHot is BenchmarkMatVec on one 256×1536 matrix that stays
// in L2: the kernels' compute throughput, without the memory bottleneck.
func BenchmarkMatVecHot(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randVec(rng, 1536)
	y := make([]float32, 256)
	for _, d := range benchTypes {
		m := randMat(rng, d, 256, 1536, 64, F16)
		for _, im := range impls() {
			for _, mode := range qintModes(d, im) {
				b.Run(fmt.Sprintf("%s/%s%s", d, im.name, mode.name), func(b *testing.B) {
					saved := active
					active = im
					defer func() { active = saved }()
					pool := NewPool(1)
					defer pool.Close()
					e := NewExec(pool)
					e.SetIntInput(mode.on)
					b.SetBytes(m.Bytes())
					cpuLoop(b, m.Bytes(), func() { e.MatVec(y, m, x) })
				})
			}
		}
	}
}

// BenchmarkMatVec reports the weight bandwidth of decode's product (MB/s of
// weights) for a 2048×2048 matrix read from memory (copies of it past the
// caches), per kernel set and thread count; on one thread also per CPU
// second (cpu-MB/s).
func BenchmarkMatVec(b *testing.B) {
	for _, d := range benchTypes {
		ms := benchMats(d, 2048, 2048)
		x := randVec(rand.New(rand.NewPCG(1, 1)), 2048)
		y := make([]float32, 2048)
		for _, im := range impls() {
			for _, mode := range qintModes(d, im) {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/%s%s/t%d", d, im.name, mode.name, threads), func(b *testing.B) {
						saved := active
						active = im
						defer func() { active = saved }()
						pool := NewPool(threads)
						defer pool.Close()
						e := NewExec(pool)
						e.SetIntInput(mode.on)
						b.SetBytes(ms[0].Bytes())
						b.ResetTimer()
						i := 0
						f := func() { e.MatVec(y, ms[i%len(ms)], x); i++ }
						if threads == 1 { // per CPU second too: the figure to compare on a busy machine
							cpuLoop(b, ms[0].Bytes(), f)
							return
						}
						for b.Loop() {
							f()
						}
					})
				}
			}
		}
	}
}

// qintModes are the input modes to benchmark for d on im: float x, and int8 x
// where im has integer kernels for d (named "-int").
func qintModes(d DType, im *impl) []struct {
	name string
	on   bool
} {
	modes := []struct {
		name string
		on   bool
	}{{"", false}}
	if (d == Q8 || d == Q4) && im.rowsQ8i != nil {
		modes = append(modes, struct {
			name string
			on   bool
		}{"-int", true})
	}
	return modes
}

// BenchmarkMatMul reports prefill throughput (GFLOP/s, and per CPU second
// on one thread) for 64 tokens through 1536×1536 and 1536×4096 matrices.
func BenchmarkMatMul(b *testing.B) {
	const n = 64
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][2]int{{1536, 1536}, {1536, 4096}} {
		rows, cols := sh[0], sh[1]
		x := randVec(rng, n*cols)
		y := make([]float32, n*rows)
		for _, d := range benchTypes {
			m := randMat(rng, d, rows, cols, 64, F16)
			for _, im := range impls() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("%dx%d/%s/%s/t%d", rows, cols, d, im.name, threads), func(b *testing.B) {
						saved := active
						active = im
						defer func() { active = saved }()
						pool := NewPool(threads)
						defer pool.Close()
						e := NewExec(pool)
						flops := 2 * float64(n*rows*cols)
						cpuLoop(b, int64(flops), func() { e.MatMul(y, m, x, n) }, "FLOP")
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkMatMulTokens is prefill's product at every batch size, from
// batched decode (2-16 tokens) to long prompts, with the active kernel set
// through a 896×4864 matrix (the MLP down projection of a 0.5B model):
// GFLOP/s of wall time and, on one thread (t1), per CPU second, which a
// busy machine does not distort.
func BenchmarkMatMulTokens(b *testing.B) {
	const rows, cols = 896, 4864
	rng := rand.New(rand.NewPCG(1, 3))
	for _, d := range benchTypes {
		m := randMat(rng, d, rows, cols, 64, F16)
		for _, n := range []int{1, 2, 4, 8, 16, 64, 512} {
			x := randVec(rng, n*cols)
			y := make([]float32, n*rows)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/n%d/t%d", d, n, threads), func(b *testing.B) {
					pool := NewPool(threads)
					defer pool.Close()
					e := NewExec(pool)
					flops := 2 * float64(n*rows*cols)
					cpuLoop(b, int64(flops), func() { e.MatMul(y, m, x, n) }, "FLOP")
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkAttention is one decode step's attention (Qwen2.5-0.5B's heads)
// over ctx cached positions, the cache in one block or in blocks of 256 (each
// head's values together, as a sequence keeps them), on
// one thread: cpu-MB/s is the cache read per CPU second.
func BenchmarkAttention(b *testing.B) {
	a := Attn{Heads: 24, KVHeads: 8, HeadDim: 64, Scale: 0.125}
	kvDim := a.KVHeads * a.HeadDim
	for _, ctx := range []int{512, 4096} {
		for _, f16 := range []bool{false, true} {
			for _, block := range []int{0, 256} {
				name := fmt.Sprintf("ctx%d/f32/block%d", ctx, block)
				if f16 {
					name = fmt.Sprintf("ctx%d/f16/block%d", ctx, block)
				}
				b.Run(name, func(b *testing.B) {
					rng := rand.New(rand.NewPCG(3, 3))
					k, v := blockedKV(ctx, kvDim, block, a.HeadDim, f16), blockedKV(ctx, kvDim, block, a.HeadDim, f16)
					k.Put(0, randVec(rng, ctx*kvDim))
					v.Put(0, randVec(rng, ctx*kvDim))
					q := randVec(rng, a.Heads*a.HeadDim)
					out := make([]float32, len(q))
					pool := NewPool(1)
					defer pool.Close()
					e := NewExec(pool)
					elem := 4
					if f16 {
						elem = 2
					}
					cpuLoop(b, int64(2*ctx*kvDim*elem), func() { e.Attention(out, q, 1, ctx-1, k, v, a) })
				})
			}
		}
	}
}

// BenchmarkSoftmax is a 512-token prompt's causal softmax rows for one
// head, of every length 1..512 (most with a tail past whole vectors), on
// one thread: cpu-Gscore/s is scores per CPU second.
func BenchmarkSoftmax(b *testing.B) {
	const n = 512
	rng := rand.New(rand.NewPCG(3, 5))
	src, x := randVec(rng, n), make([]float32, n)
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			saved := active
			active = im
			defer func() { active = saved }()
			cpuLoop(b, n*(n+1)/2, func() {
				for l := 1; l <= n; l++ {
					copy(x[:l], src)
					Softmax(x[:l])
				}
			}, "score")
		})
	}
}

func BenchmarkSiLUMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, g := randVec(rng, 4096), randVec(rng, 4096)
	for b.Loop() {
		SiLUMul(x, g)
	}
}

// BenchmarkMatMulBatch is batched decode's product: n inputs through a 896×4864
// matrix (a 0.5B model's MLP down projection; -batch-shape ROWSxCOLS for
// another: 4864x896 gate and up, 896x896 q and o, 151936x896 the lm head)
// on one thread: MLX 8/4-bit with
// float and int16 inputs, and F16/BF16; n = 1 is MatVec. ns/tok is wall time per input;
// cpu-GFLOP/s, per CPU second, is what to compare on a busy machine
// (2·rows·cols flops per input). Every SIMD set this CPU runs is measured
// (benchBatchSets), interleaved per case so that load drifts hit all alike.
var batchShape = flag.String("batch-shape", "896x4864", "BenchmarkMatMulBatch's matrix, ROWSxCOLS")

func BenchmarkMatMulBatch(b *testing.B) {
	var rows, cols int
	if _, err := fmt.Sscanf(*batchShape, "%dx%d", &rows, &cols); err != nil || rows <= 0 || cols%64 != 0 {
		b.Fatalf("-batch-shape %q: want ROWSxCOLS, COLS a multiple of 64", *batchShape)
	}
	rng := rand.New(rand.NewPCG(1, 4))
	sets := benchBatchSets()
	for _, d := range []DType{Q8, Q4, F16, BF16} {
		m := randMat(rng, d, rows, cols, 64, F16)
		if err := m.Check(); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name string
			on   bool
		}{{"", false}, {"-int", true}} {
			if mode.on && d != Q8 && d != Q4 {
				continue
			}
			for _, n := range []int{1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32} {
				x := randVec(rng, n*cols)
				y := make([]float32, n*rows)
				for _, im := range sets {
					if mode.on && im.rowsQ8i == nil {
						continue
					}
					b.Run(fmt.Sprintf("%s%s/n%d/%s", d, mode.name, n, im.name), func(b *testing.B) {
						saved := active
						active = im
						defer func() { active = saved }()
						pool := NewPool(1)
						defer pool.Close()
						e := NewExec(pool)
						e.SetIntInput(mode.on)
						cpuLoop(b, int64(2*n*rows*cols), func() { e.MatMul(y, m, x, n) }, "FLOP")
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tok")
					})
				}
			}
		}
	}
}

// benchBatchSets are the sets BenchmarkMatMulBatch compares: every SIMD set
// this CPU runs, and each set with batched kernels once more without them
// ("-rows": batchRows, what a set without them runs).
func benchBatchSets() []*impl {
	var sets []*impl
	for _, im := range impls() {
		if im == goImpl {
			continue
		}
		sets = append(sets, im)
		if im.batchQ != nil || im.batchQi != nil || im.batchHalf != nil {
			c := *im
			c.name += "-rows"
			c.batchQ, c.batchQi, c.batchHalf = nil, nil, nil
			sets = append(sets, &c)
		}
	}
	return sets
}

// BenchmarkBatchedVsPacked times the two products a batch of n inputs can
// take with MLX weights, on one thread through BenchmarkMatMulBatch's matrix:
// the batched kernels ("batch", "batch-int") and prefill's packed path, which
// converts the weights to floats once for all inputs. qbatchMaxTokens is the
// n where the packed path starts to win.
func BenchmarkBatchedVsPacked(b *testing.B) {
	if active.micro == nil {
		b.Skip("this kernel set has no packed path")
	}
	const rows, cols = 896, 4864
	rng := rand.New(rand.NewPCG(1, 5))
	for _, d := range []DType{Q8, Q4} {
		m := randMat(rng, d, rows, cols, 64, F16)
		for _, n := range []int{4, 8, 12, 16, 24, 32} {
			x := randVec(rng, n*cols)
			y := make([]float32, n*rows)
			for _, path := range []string{"batch", "batch-int", "packed"} {
				b.Run(fmt.Sprintf("%s/n%d/%s", d, n, path), func(b *testing.B) {
					pool := NewPool(1)
					defer pool.Close()
					e := NewExec(pool)
					e.SetIntInput(path == "batch-int")
					f := func() { e.matMulQuant(y, m, x, n) }
					if path == "packed" {
						f = func() { e.matMulPacked(y, m, x, n) }
					}
					cpuLoop(b, int64(2*n*rows*cols), f, "FLOP")
				})
			}
		}
	}
}

// BenchmarkMatMulInt8 compares prefill's product with MLX 4-bit weights on
// float input (the packed float path) and on int8 input (qint8pack.go), 256
// tokens on one thread: GFLOP/s per CPU second (cpuLoop), which a busy
// machine distorts less than wall time. Run with -count and interleave.
func BenchmarkMatMulInt8(b *testing.B) {
	if !HasInt8Prefill() {
		b.Skipf("kernel set %s has no int8 prefill kernel", Backend())
	}
	const n = 256
	rng := rand.New(rand.NewPCG(1, 4))
	for _, sh := range [][2]int{{1536, 1536}, {1536, 4096}} {
		rows, cols := sh[0], sh[1]
		x := randVec(rng, n*cols)
		y := make([]float32, n*rows)
		m := randMat(rng, Q4, rows, cols, 64, F16)
		for _, int8 := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%d/int8=%v", rows, cols, int8), func(b *testing.B) {
				pool := NewPool(1)
				defer pool.Close()
				e := NewExec(pool)
				e.SetInt8Prefill(int8)
				cpuLoop(b, int64(2*n*rows*cols), func() { e.MatMul(y, m, x, n) }, "FLOP")
			})
		}
	}
}
