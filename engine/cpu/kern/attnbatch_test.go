package kern

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAttentionBatch: sequences of different lengths and query counts
// (decode rows beside a prefill chunk), over caches in blocks of different
// sizes, attended in one AttentionBatch step, each get the bits their own
// Attention gives; also with a window, a cap and sinks, over half caches,
// and small enough to run inline.
func TestAttentionBatch(t *testing.T) {
	type seq struct{ nq, pos0, block int }
	cases := []struct {
		name string
		a    Attn
		f16  bool
		seqs []seq
	}{
		{"decode-gqa", Attn{Heads: 8, KVHeads: 4, HeadDim: 16}, false, []seq{{1, 40, 0}, {1, 7, 16}, {1, 63, 3}, {1, 0, 0}}},
		{"mixed-f16", Attn{Heads: 24, KVHeads: 8, HeadDim: 64}, true, []seq{{1, 90, 16}, {5, 12, 0}, {1, 33, 7}}},
		{"window-cap-sinks", Attn{Heads: 6, KVHeads: 2, HeadDim: 32, Window: 9, Softcap: 2, Sinks: testSinks(6)}, false,
			[]seq{{1, 50, 0}, {3, 4, 5}, {1, 20, 16}}},
		{"inline", Attn{Heads: 2, KVHeads: 1, HeadDim: 8}, false, []seq{{1, 2, 0}, {1, 5, 2}}},
	}
	pool := NewPool(2)
	defer pool.Close()
	for _, c := range cases {
		forEachImpl(t, func(t *testing.T) {
			t.Run(c.name, func(t *testing.T) {
				a := c.a
				a.Scale = float32(1 / math.Sqrt(float64(a.HeadDim)))
				rng := rand.New(rand.NewPCG(uint64(len(c.seqs)), 11))
				kvDim, qDim := a.KVHeads*a.HeadDim, a.Heads*a.HeadDim
				var seqs []AttnSeq
				longest := 0
				for _, s := range c.seqs {
					n := s.pos0 + s.nq
					k, v := blockedKV(n, kvDim, s.block, a.HeadDim, c.f16), blockedKV(n, kvDim, s.block, a.HeadDim, c.f16)
					k.Put(0, randVec(rng, n*kvDim))
					v.Put(0, randVec(rng, n*kvDim))
					seqs = append(seqs, AttnSeq{Out: make([]float32, s.nq*qDim), Q: randVec(rng, s.nq*qDim),
						NQ: s.nq, Pos0: s.pos0, K: k, V: v})
					longest = max(longest, n)
				}
				e := NewExec(pool)
				e.ReserveAttention(a, longest)
				e.AttentionBatch(seqs, a)
				for i, s := range seqs {
					want := make([]float32, len(s.Out))
					NewExec(pool).Attention(want, s.Q, s.NQ, s.Pos0, s.K, s.V, a)
					if !slices.Equal(s.Out, want) {
						t.Errorf("sequence %d: batched %v, alone %v", i, s.Out[:8], want[:8])
					}
				}
				if e.ab.segs[0].k.F32 != nil || e.ab.segs[0].k.F16 != nil {
					t.Error("the task keeps a reference to a cache after the step")
				}
			})
		})
	}
}
