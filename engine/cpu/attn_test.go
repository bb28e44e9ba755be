package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestSinkAttention checks the kernels' sinks and soft-capping against the
// float64 loop those layers ran before, over a cache of half precision in
// blocks of 5 rows: prefill chunks, decode, windows and GQA.
func TestSinkAttention(t *testing.T) {
	sinks := &model.Tensor{Name: "sinks"}
	cases := []struct {
		name     string
		a        model.Attention
		nq, pos0 int
	}{
		{"sinks-prefill", model.Attention{Heads: 8, KVHeads: 2, HeadDim: 64, Sinks: sinks}, 12, 0},
		{"sinks-window-chunk", model.Attention{Heads: 4, KVHeads: 4, HeadDim: 32, Window: 6, Sinks: sinks}, 5, 17},
		{"softcap-decode", model.Attention{Heads: 4, KVHeads: 2, HeadDim: 48, Softcap: 2}, 1, 30},
		{"softcap-sinks-window", model.Attention{Heads: 6, KVHeads: 3, HeadDim: 16, Window: 4, Softcap: 3, Sinks: sinks}, 7, 9},
	}
	pool := kern.NewPool(2)
	defer pool.Close()
	e := kern.NewExec(pool)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.a
			a.Scale = 1 / math.Sqrt(float64(a.HeadDim))
			rng := rand.New(rand.NewPCG(uint64(c.nq), uint64(c.pos0)))
			n, kvDim := c.pos0+c.nq, a.KVHeads*a.HeadDim
			k, v := kern.KV{Block: 5, Dim: kvDim}, kern.KV{Block: 5, Dim: kvDim}
			for range (n + 4) / 5 {
				k.F16 = append(k.F16, make([]uint16, 5*kvDim))
				v.F16 = append(v.F16, make([]uint16, 5*kvDim))
			}
			k.Put(0, randVec(rng, n*kvDim))
			v.Put(0, randVec(rng, n*kvDim))
			q := randVec(rng, c.nq*a.Heads*a.HeadDim)
			var sv []float32
			if a.Sinks != nil {
				sv = randVec(rng, a.Heads)
				sv[0] = 8 // one head gives nearly all its attention to the sink
			}
			want := make([]float32, len(q))
			softcapAttention(want, q, c.nq, c.pos0, k, v, &a, make([]float64, n), make([]float32, a.HeadDim), sv)
			got := make([]float32, len(q))
			e.Attention(got, q, c.nq, c.pos0, k, v, kern.Attn{Heads: a.Heads, KVHeads: a.KVHeads, HeadDim: a.HeadDim,
				Scale: float32(a.Scale), Window: a.Window, Softcap: float32(a.Softcap), Sinks: sv})
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 2e-5 {
					t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// BenchmarkSinkAttention is one decode step's attention over 2048 cached
// positions (a half-precision cache, the default) for the layers that used
// to leave the kernels: GPT-OSS-20B's heads with sinks and Gemma 2 2B's with
// soft-capped scores. "loop" is the float64 loop those layers ran before the
// kernels had sinks and soft-capping, "kern" the kernels, both on one
// thread. cpu-ms/op is the process's CPU time per step: on a busy machine
// it varies less than the wall time.
func BenchmarkSinkAttention(b *testing.B) {
	const ctx = 2048
	cases := []struct {
		name string
		a    model.Attention
	}{
		{"gptoss-sinks", model.Attention{Heads: 64, KVHeads: 8, HeadDim: 64, Sinks: &model.Tensor{Name: "sinks"}}},
		{"gptoss-sinks-window128", model.Attention{Heads: 64, KVHeads: 8, HeadDim: 64, Window: 128, Sinks: &model.Tensor{Name: "sinks"}}},
		{"gemma2-softcap", model.Attention{Heads: 8, KVHeads: 4, HeadDim: 256, Softcap: 50}},
	}
	for _, c := range cases {
		a := c.a
		a.Scale = 1 / math.Sqrt(float64(a.HeadDim))
		rng := rand.New(rand.NewPCG(5, 5))
		kvDim := a.KVHeads * a.HeadDim
		k, v := kern.NewKV(ctx, kvDim, true), kern.NewKV(ctx, kvDim, true)
		k.Put(0, randVec(rng, ctx*kvDim))
		v.Put(0, randVec(rng, ctx*kvDim))
		q := randVec(rng, a.Heads*a.HeadDim)
		out := make([]float32, len(q))
		var sinks []float32
		if a.Sinks != nil {
			sinks = randVec(rng, a.Heads)
		}
		b.Run(fmt.Sprintf("%s/loop", c.name), func(b *testing.B) {
			scores, key := make([]float64, ctx), make([]float32, a.HeadDim)
			start := processCPU()
			for b.Loop() {
				softcapAttention(out, q, 1, ctx-1, k, v, &a, scores, key, sinks)
			}
			reportCPUPerOp(b, start)
		})
		b.Run(fmt.Sprintf("%s/kern", c.name), func(b *testing.B) {
			pool := kern.NewPool(1)
			defer pool.Close()
			e := kern.NewExec(pool)
			ka := kern.Attn{Heads: a.Heads, KVHeads: a.KVHeads, HeadDim: a.HeadDim, Scale: float32(a.Scale),
				Window: a.Window, Softcap: float32(a.Softcap), Sinks: sinks}
			start := processCPU()
			for b.Loop() {
				e.Attention(out, q, 1, ctx-1, k, v, ka)
			}
			reportCPUPerOp(b, start)
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPUPerOp(b *testing.B, start time.Duration) {
	if d := processCPU() - start; d > 0 && start > 0 {
		b.ReportMetric(float64(d.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	}
}

func randVec(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// softcapAttention is how layers with soft-capped scores or sinks ran
// before the kernels had them: plain Go in float64, one query row and head
// at a time, reading the cache row by row. It stays as the baseline of
// BenchmarkSinkAttention. scores (pos0+nq) and key (HeadDim) are scratch.
func softcapAttention(out, q []float32, nq, pos0 int, k, v kern.KV, a *model.Attention, scores []float64, key []float32, sinks []float32) {
	d, group := a.HeadDim, a.Heads/a.KVHeads
	for i := range nq {
		pos := pos0 + i
		first := 0
		if a.Window > 0 {
			first = max(0, pos-a.Window+1)
		}
		for h := range a.Heads {
			kv := h / group
			qh := q[(i*a.Heads+h)*d : (i*a.Heads+h+1)*d]
			m := math.Inf(-1)
			for j := first; j <= pos; j++ {
				k.Row(key, j, kv*d)
				var dot float64
				for c, x := range qh {
					dot += float64(x) * float64(key[c])
				}
				sc := dot * a.Scale
				if a.Softcap > 0 {
					sc = a.Softcap * math.Tanh(sc/a.Softcap)
				}
				scores[j] = sc
				m = max(m, sc)
			}
			var sum float64
			if sinks != nil {
				m = max(m, float64(sinks[h]))
				sum = math.Exp(float64(sinks[h]) - m)
			}
			for j := first; j <= pos; j++ {
				scores[j] = math.Exp(scores[j] - m)
				sum += scores[j]
			}
			oh := out[(i*a.Heads+h)*d : (i*a.Heads+h+1)*d]
			clear(oh)
			for j := first; j <= pos; j++ {
				v.Row(key, j, kv*d)
				w := float32(scores[j] / sum)
				for c := range oh {
					oh[c] += w * key[c]
				}
			}
		}
	}
}
