package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// refF16 decodes a half by its definition.
func refF16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&31, float64(h&0x3ff)
	switch e {
	case 0:
		return sign * m * math.Pow(2, -24)
	case 31:
		if m != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + m/1024) * math.Pow(2, float64(e-15))
}

func TestF16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got, want := F16ToF32(uint16(h)), refF16(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("%#04x: got %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("%#04x: got %v, want %v", h, got, want)
		}
		if back := F32ToF16(got); back != uint16(h) {
			t.Fatalf("%#04x round trip gives %#04x", h, back)
		}
	}
}

func TestF32ToF16Rounding(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00},
		{1 + 1.0/2048, 0x3c00},               // tie, even stays
		{1 + 3.0/2048, 0x3c02},               // tie, odd rounds up
		{65504, 0x7bff},                      // largest half
		{65520, 0x7c00},                      // rounds to Inf
		{float32(math.Pow(2, -24)), 0x0001},  // smallest subnormal
		{float32(math.Pow(2, -25)), 0x0000},  // tie to even zero
		{float32(math.Pow(2, -25)) * 1.5, 1}, // above the tie
		{-2, 0xc000},
		{float32(math.Inf(-1)), 0xfc00},
	}
	for _, c := range cases {
		if got := F32ToF16(c.in); got != c.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

// TestHalfKernels checks that the SIMD widening matches F16ToF32 on every
// half value, including Inf, NaN and subnormals.
func TestHalfKernels(t *testing.T) {
	src := make([]uint16, 1<<16+5)
	for i := range src {
		src[i] = uint16(i)
	}
	forEachImpl(t, func(t *testing.T) {
		dst := make([]float32, len(src))
		active.f16ToF32(dst, src)
		for i, h := range src {
			want := F16ToF32(h)
			if math.Float32bits(dst[i]) != math.Float32bits(want) && !(want != want && dst[i] != dst[i]) {
				t.Fatalf("%#04x: got %v, want %v", h, dst[i], want)
			}
		}
		active.bf16ToF32(dst, src)
		for i, h := range src {
			if math.Float32bits(dst[i]) != math.Float32bits(BF16ToF32(h)) {
				t.Fatalf("bf16 %#04x: got %v", h, dst[i])
			}
		}
	})
}

func TestExp(t *testing.T) {
	for x := -100.0; x < expHi; x += 0.01 { // above expHi Exp saturates
		x32 := float32(x)
		got, want := float64(Exp(x32)), math.Exp(float64(x32))
		if x32 < expLo {
			want = 0
		}
		if math.Abs(got-want) > 4e-7*want {
			t.Fatalf("Exp(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 7, 16, 33, 172, 1000} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				x, w := randVec(rng, n), randVec(rng, n)
				checkRMSNorm(t, x, w)
				checkSoftmax(t, x)
				checkSiLUMul(t, x, w)
				if got, want := Dot(x, w), refDot(x, w); math.Abs(float64(got)-want) > 1e-5*float64(n) {
					t.Errorf("dot %v, want %v", got, want)
				}
			})
		}
	})
}

func refDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func checkRMSNorm(t *testing.T, x, w []float32) {
	t.Helper()
	out := make([]float32, len(x))
	RMSNorm(out, x, w, 1e-5)
	ss := refDot(x, x) / float64(len(x))
	for i := range x {
		want := float64(x[i]) / math.Sqrt(ss+1e-5) * float64(w[i])
		if math.Abs(float64(out[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("rmsnorm[%d] = %v, want %v", i, out[i], want)
		}
	}
}

func checkSoftmax(t *testing.T, x []float32) {
	t.Helper()
	got := append([]float32(nil), x...)
	Softmax(got)
	in := make([]float64, len(x))
	for i, v := range x {
		in[i] = float64(v)
	}
	for i, want := range refSoftmax(in) {
		if math.Abs(float64(got[i])-want) > 1e-6 {
			t.Fatalf("softmax[%d] = %v, want %v", i, got[i], want)
		}
	}
}

func checkSiLUMul(t *testing.T, x, g []float32) {
	t.Helper()
	a := append([]float32(nil), x...)
	SiLUMul(a, g)
	for i := range a {
		v := float64(x[i])
		want := v / (1 + math.Exp(-v)) * float64(g[i])
		if math.Abs(float64(a[i])-want) > 1e-6*(1+math.Abs(want)) {
			t.Fatalf("silu*mul[%d] = %v, want %v", i, a[i], want)
		}
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		in   []float32
		want int
	}{
		{nil, -1},
		{[]float32{-3}, 0},
		{[]float32{1, 5, 5, 2}, 1},
		{[]float32{nan, -1, -2}, 1},
		{[]float32{-5, nan, -1}, 2},
	}
	for _, c := range cases {
		if got := Argmax(c.in); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestRope(t *testing.T) {
	const heads, hd, pos = 3, 8, 5
	freqs := InvFreq(hd, 10000)
	r := NewRope(16, freqs)
	v := randVec(rand.New(rand.NewPCG(1, 9)), heads*hd)
	got := append([]float32(nil), v...)
	r.Apply(got, heads, pos)
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			s, c := math.Sincos(pos * freqs[i])
			a, b := float64(v[h*hd+i]), float64(v[h*hd+i+hd/2])
			if w := a*c - b*s; math.Abs(float64(got[h*hd+i])-w) > 1e-6 {
				t.Fatalf("head %d pair %d: %v, want %v", h, i, got[h*hd+i], w)
			}
			if w := b*c + a*s; math.Abs(float64(got[h*hd+i+hd/2])-w) > 1e-6 {
				t.Fatalf("head %d pair %d (second): %v, want %v", h, i, got[h*hd+i+hd/2], w)
			}
		}
	}
}

func TestAttention(t *testing.T) {
	cases := []struct {
		name      string
		a         Attn
		nq, pos0  int
		f16       bool
		threshold float64
	}{
		{"decode-gqa", Attn{Heads: 8, KVHeads: 4, HeadDim: 8}, 1, 9, false, 1e-5},
		{"prefill-gqa", Attn{Heads: 6, KVHeads: 2, HeadDim: 16}, 7, 0, false, 1e-5},
		{"chunk-mha", Attn{Heads: 4, KVHeads: 4, HeadDim: 20}, 5, 11, false, 1e-5},
		{"window", Attn{Heads: 4, KVHeads: 2, HeadDim: 16, Window: 4}, 6, 3, false, 1e-5},
		{"f16-cache", Attn{Heads: 24, KVHeads: 8, HeadDim: 64}, 3, 40, true, 2e-3},
		{"long-hd64", Attn{Heads: 6, KVHeads: 2, HeadDim: 64}, 3, 37, false, 1e-5},
		{"long-hd80-window", Attn{Heads: 4, KVHeads: 1, HeadDim: 80, Window: 20}, 2, 50, false, 1e-5},
		// Gemma 2's soft-capped scores: a cap of 1.5 bends most of them.
		{"softcap-gqa", Attn{Heads: 8, KVHeads: 2, HeadDim: 32, Softcap: 1.5}, 5, 30, false, 1e-5},
		{"softcap-window-f16", Attn{Heads: 4, KVHeads: 2, HeadDim: 64, Window: 7, Softcap: 2}, 3, 33, true, 2e-3},
		// GPT-OSS's sinks, one per head, some of them large enough to take
		// most of the attention; alone, windowed and with a cap.
		{"sinks-decode-gqa", Attn{Heads: 8, KVHeads: 2, HeadDim: 64, Sinks: testSinks(8)}, 1, 40, false, 1e-5},
		{"sinks-prefill-window", Attn{Heads: 6, KVHeads: 3, HeadDim: 16, Window: 5, Sinks: testSinks(6)}, 9, 2, false, 1e-5},
		{"sinks-softcap-f16", Attn{Heads: 4, KVHeads: 1, HeadDim: 48, Softcap: 3, Sinks: testSinks(4)}, 2, 20, true, 2e-3},
		{"f16-hd80-window", Attn{Heads: 4, KVHeads: 1, HeadDim: 80, Window: 21}, 6, 50, true, 2e-3},
		{"f16-hd20", Attn{Heads: 4, KVHeads: 2, HeadDim: 20}, 5, 9, true, 2e-3},
		{"f16-hd128-gqa", Attn{Heads: 6, KVHeads: 2, HeadDim: 128}, 2, 45, true, 2e-3},
		{"f16-hd96-gqa", Attn{Heads: 3, KVHeads: 1, HeadDim: 96, Window: 30}, 1, 70, true, 2e-3},
		// Prompts of 16 queries and more go through the micro-kernel
		// (attngemm.go) where the set has it: a partial block and a
		// partial tile of six, two blocks, caps and sinks; a window and
		// a head size off the 16-value panels keep the per-query path.
		{"gemm-gqa", Attn{Heads: 6, KVHeads: 2, HeadDim: 32}, 37, 5, false, 1e-5},
		{"gemm-f16-blocks", Attn{Heads: 2, KVHeads: 1, HeadDim: 32}, 97, 8, true, 2e-3},
		{"gemm-sinks-softcap", Attn{Heads: 4, KVHeads: 1, HeadDim: 16, Softcap: 3, Sinks: testSinks(4)}, 20, 0, false, 1e-5},
		{"gemm-window", Attn{Heads: 4, KVHeads: 2, HeadDim: 16, Window: 9}, 20, 3, false, 1e-5},
		{"gemm-hd20", Attn{Heads: 2, KVHeads: 1, HeadDim: 20}, 16, 2, true, 2e-3},
		// Head size 48: on a set with micro2, 32 output dimensions in one
		// call and 16 in another.
		{"gemm-hd48", Attn{Heads: 3, KVHeads: 1, HeadDim: 48}, 29, 3, false, 1e-5},
	}
	for _, c := range cases {
		forEachImpl(t, func(t *testing.T) {
			t.Run(c.name, func(t *testing.T) {
				// One block, as a contiguous cache; blocks of 16 rows (the
				// SIMD kernels' grouping), rows as they come or each head's
				// together, which must give the same bits; and of 3, cut
				// anywhere.
				one := checkAttention(t, c.a, c.nq, c.pos0, 0, false, c.f16, c.threshold)
				for _, heads := range []bool{false, true} {
					if got := checkAttention(t, c.a, c.nq, c.pos0, 16, heads, c.f16, c.threshold); !slices.Equal(got, one) {
						t.Errorf("blocks of 16 rows (heads together %v): %v, one block: %v", heads, got, one)
					}
				}
				if got := checkAttention(t, c.a, c.nq, c.pos0, 0, true, c.f16, c.threshold); !slices.Equal(got, one) {
					t.Errorf("one block, heads together: %v, rows as they come: %v", got, one)
				}
				checkAttention(t, c.a, c.nq, c.pos0, 3, true, c.f16, c.threshold)
			})
		})
	}
}

// testSinks returns n sink logits from -3 to 6: from negligible to taking
// nearly all of a head's attention.
func testSinks(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = -3 + 9*float32(i)/float32(max(1, n-1))
	}
	return s
}

// TestSoftcap checks every set's c·tanh(x/c) against float64 over scores
// from tiny to far past the cap, both signs, at lengths that leave SIMD
// tails.
func TestSoftcap(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, c := range []float32{0.5, 30, 50} {
			for _, n := range []int{1, 7, 8, 31, 100} {
				x := make([]float32, n)
				for i := range x {
					// Magnitudes 1e-6·c .. 1e3·c, alternating signs.
					x[i] = c * float32(math.Pow(10, -6+9*float64(i)/float64(max(1, n-1))))
					if i%2 == 1 {
						x[i] = -x[i]
					}
				}
				if n > 2 {
					x[2] = 0
				}
				got := append([]float32(nil), x...)
				active.softcap(got, c)
				for i, v := range x {
					want := float64(c) * math.Tanh(float64(v)/float64(c))
					if d := math.Abs(float64(got[i]) - want); d > 4e-7*float64(c) || math.Signbit(float64(got[i])) != math.Signbit(want) {
						t.Fatalf("cap %v, n %d: softcap(%v) = %v, want %v", c, n, v, got[i], want)
					}
				}
			}
		}
	})
}

// checkAttention compares attention over a cache in blocks of block rows (0:
// one block), each head's values together if heads is set, with the
// float64 reference and returns its output.
func checkAttention(t *testing.T, a Attn, nq, pos0, block int, heads, f16 bool, tol float64) []float32 {
	t.Helper()
	a.Scale = float32(1 / math.Sqrt(float64(a.HeadDim)))
	rng := rand.New(rand.NewPCG(uint64(nq), uint64(pos0)))
	n, kvDim := pos0+nq, a.KVHeads*a.HeadDim
	kf, vf := randVec(rng, n*kvDim), randVec(rng, n*kvDim)
	head := 0
	if heads {
		head = a.HeadDim
	}
	k, v := blockedKV(n, kvDim, block, head, f16), blockedKV(n, kvDim, block, head, f16)
	k.Put(0, kf)
	v.Put(0, vf)
	if f16 { // the reference sees what the cache holds
		for i := range kf {
			kf[i], vf[i] = F16ToF32(F32ToF16(kf[i])), F16ToF32(F32ToF16(vf[i]))
		}
	}
	row := make([]float32, kvDim)
	for p := range n {
		if k.Row(row, p, 0); !slices.Equal(row, kf[p*kvDim:(p+1)*kvDim]) {
			t.Fatalf("block %d: row %d reads back %v, want %v", block, p, row, kf[p*kvDim:(p+1)*kvDim])
		}
	}
	q := randVec(rng, nq*a.Heads*a.HeadDim)
	out := make([]float32, len(q))
	pool := NewPool(2)
	defer pool.Close()
	e := NewExec(pool)
	e.Attention(out, q, nq, pos0, k, v, a)
	want := refAttention(q, nq, pos0, kf, vf, a)
	for i := range want {
		if math.Abs(float64(out[i])-want[i]) > tol {
			t.Fatalf("block %d: out[%d] = %v, want %v", block, i, out[i], want[i])
		}
	}
	return out
}

// blockedKV is a cache of rows positions in blocks of block rows (0: one
// block), the last one partly used, each head's values together when head
// is set (KV.Head).
func blockedKV(rows, dim, block, head int, f16 bool) KV {
	if block == 0 {
		c := NewKV(rows, dim, f16)
		c.Head = head
		return c
	}
	c := KV{Block: block, Dim: dim, Head: head}
	for range (rows + block - 1) / block {
		if f16 {
			c.F16 = append(c.F16, make([]uint16, block*dim))
		} else {
			c.F32 = append(c.F32, make([]float32, block*dim))
		}
	}
	return c
}

func TestRow(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for i, c := range matCases() {
			t.Run(c.String(), func(t *testing.T) {
				m := randMat(rand.New(rand.NewPCG(uint64(i), 8)), c.d, c.rows, c.cols, c.gs, c.sd)
				dst := make([]float32, c.cols)
				for r := 0; r < c.rows; r += max(1, c.rows/3) {
					m.Row(dst, r)
					for col, v := range dst {
						if want := refWeight(m, r, col); math.Abs(float64(v)-want) > 1e-6*(1+math.Abs(want)) {
							t.Fatalf("row %d col %d: %v, want %v", r, col, v, want)
						}
					}
				}
			})
		}
	})
}

// TestPoolConcurrent runs several Execs on one pool at once, as concurrent
// sequences do; -race checks the hand-off.
func TestPoolConcurrent(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 6))
			m := randMat(rng, Q4, 96, 256, 32, F16)
			x := randVec(rng, 256)
			want, mag := refMatVec(m, x)
			e := NewExec(pool)
			y := make([]float32, m.Rows)
			for it := 0; it < 50; it++ {
				e.MatVec(y, m, x)
				for r := range y {
					if !close32(y[r], want[r], mag[r]) {
						t.Errorf("goroutine %d iteration %d row %d: %v, want %v", g, it, r, y[r], want[r])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestMatVecNoAlloc(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	e := NewExec(pool)
	rng := rand.New(rand.NewPCG(2, 2))
	m := randMat(rng, Q8, 256, 512, 64, BF16)
	x, y := randVec(rng, 512), make([]float32, 256)
	e.MatVec(y, m, x) // warm-up sizes the scratch
	if n := testing.AllocsPerRun(20, func() { e.MatVec(y, m, x) }); n != 0 {
		t.Fatalf("MatVec allocates %v times per call", n)
	}
}
