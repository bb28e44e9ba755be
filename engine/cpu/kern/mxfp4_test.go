package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refMXFP4 is element (r, c) of an MXFP4 matrix from the format's
// definition, not the kernels' tables: E2M1 is a sign bit, two exponent bits
// e (bias 1) and a mantissa bit m, (-1)^s · 2^(e-1) · (1 + m/2), or m/2 when
// e is 0 (subnormal); the group's byte x scales it by 2^(x-127).
func refMXFP4(m *Mat, r, c int) float64 {
	i := r*m.Cols + c
	code := int(m.Q[i/2]>>(4*(i%2))) & 15
	e, man := code>>1&3, float64(code&1)
	v := man / 2
	if e > 0 {
		v = math.Ldexp(1+man/2, e-1)
	}
	if code&8 != 0 {
		v = -v
	}
	return v * math.Ldexp(1, int(m.Exps[i/mxfp4Group])-127)
}

func randMXFP4(rng *rand.Rand, rows, cols int) *Mat {
	m := &Mat{DType: MXFP4, Rows: rows, Cols: cols, GroupSize: mxfp4Group,
		Q: make([]byte, rows*cols/2), Exps: make([]byte, rows*cols/mxfp4Group)}
	for i := range m.Q {
		m.Q[i] = byte(rng.IntN(256))
	}
	for i := range m.Exps {
		m.Exps[i] = byte(118 + rng.IntN(14)) // 2^-9 .. 2^4: weights of real checkpoints' range
	}
	return m
}

func refMXFP4Vec(m *Mat, x []float32) (y, mag []float64) {
	y, mag = make([]float64, m.Rows), make([]float64, m.Rows)
	for r := range m.Rows {
		for c := range m.Cols {
			p := refMXFP4(m, r, c) * float64(x[c])
			y[r] += p
			mag[r] += math.Abs(p)
		}
	}
	return y, mag
}

// TestMXFP4 checks MXFP4 products on every kernel set against the float64
// definition: decode (MatVec, one and several threads), prefill (MatMul
// around and through the packed path) and the row lookup (Row).
func TestMXFP4(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, threads := range []int{1, 2} {
			pool := NewPool(threads)
			e := NewExec(pool)
			for i, sh := range [][2]int{{1, 32}, {3, 64}, {9, 384}, {67, 640}} {
				for _, n := range []int{1, 2, 5, 13} {
					t.Run(fmt.Sprintf("t%d/%dx%d/n%d", threads, sh[0], sh[1], n), func(t *testing.T) {
						rng := rand.New(rand.NewPCG(uint64(i), uint64(n)))
						m := randMXFP4(rng, sh[0], sh[1])
						if err := m.Check(); err != nil {
							t.Fatal(err)
						}
						x := randVec(rng, n*m.Cols)
						y := make([]float32, n*m.Rows)
						e.MatMul(y, m, x, n)
						for k := range n {
							want, mag := refMXFP4Vec(m, x[k*m.Cols:(k+1)*m.Cols])
							for r := range want {
								if got := y[k*m.Rows+r]; !close32(got, want[r], mag[r]) {
									t.Fatalf("token %d row %d: got %v, want %v", k, r, got, want[r])
								}
							}
						}
						row := make([]float32, m.Cols)
						m.Row(row, m.Rows-1)
						for c, v := range row {
							if want := refMXFP4(m, m.Rows-1, c); float64(v) != want {
								t.Fatalf("Row: column %d is %v, want %v", c, v, want)
							}
						}
					})
				}
			}
			pool.Close()
		}
	})
}

// TestMXFP4Check: matrices whose codes or scales do not fit the shape, or
// with another group size, are refused.
func TestMXFP4Check(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for name, broken := range map[string]func(m *Mat){
		"short codes":  func(m *Mat) { m.Q = m.Q[1:] },
		"short scales": func(m *Mat) { m.Exps = m.Exps[1:] },
		"group 64":     func(m *Mat) { m.GroupSize = 64 },
		"cols 48":      func(m *Mat) { m.Cols = 48 },
	} {
		m := randMXFP4(rng, 4, 64)
		broken(m)
		if err := m.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzMXFP4 compares the active set's MXFP4 product with the definition on
// arbitrary codes and scales from 2^-27 to 2^36, a range wide enough for
// any checkpoint whose products stay within float32.
func FuzzMXFP4(f *testing.F) {
	f.Add([]byte{0x12, 0x34, 0xf0, 0x8f}, byte(127), uint8(2))
	f.Fuzz(func(t *testing.T, seed []byte, exp byte, rows uint8) {
		if len(seed) == 0 {
			return
		}
		exp = 100 + exp%64
		r := int(rows%8) + 1
		m := &Mat{DType: MXFP4, Rows: r, Cols: 64, GroupSize: mxfp4Group,
			Q: make([]byte, r*32), Exps: make([]byte, r*2)}
		for i := range m.Q {
			m.Q[i] = seed[i%len(seed)] + byte(i)
		}
		for i := range m.Exps {
			m.Exps[i] = exp - byte(i%3)
		}
		rng := rand.New(rand.NewPCG(uint64(exp), uint64(rows)))
		x := randVec(rng, m.Cols)
		pool := NewPool(1)
		defer pool.Close()
		y := make([]float32, m.Rows)
		NewExec(pool).MatVec(y, m, x)
		want, mag := refMXFP4Vec(m, x)
		for i := range y {
			if !close32(y[i], want[i], mag[i]) {
				t.Fatalf("row %d: got %v, want %v", i, y[i], want[i])
			}
		}
	})
}

// BenchmarkMXFP4 reports the weight bandwidth of MXFP4 decode (MB/s of codes
// and scales) for a 2048×2048 matrix, out of cache like BenchmarkMatVec's,
// per kernel set and thread count, and prefill of 64 tokens (tokens/s).
func BenchmarkMXFP4(b *testing.B) {
	one := randMXFP4(rand.New(rand.NewPCG(7, 7)), 2048, 2048)
	ms := []*Mat{one}
	for len(ms) < int(256<<20/one.Bytes())+1 {
		c := *one
		c.Q, c.Exps = append([]byte(nil), one.Q...), append([]byte(nil), one.Exps...)
		ms = append(ms, &c)
	}
	x := randVec(rand.New(rand.NewPCG(1, 1)), 64*2048)
	y := make([]float32, 64*2048)
	for _, im := range impls() {
		for _, threads := range []int{1, 2} {
			run := func(name string, n int, bytes int64) {
				b.Run(fmt.Sprintf("%s/%s/t%d", name, im.name, threads), func(b *testing.B) {
					saved := active
					active = im
					defer func() { active = saved }()
					pool := NewPool(threads)
					defer pool.Close()
					e := NewExec(pool)
					b.SetBytes(bytes)
					for i := 0; b.Loop(); i++ {
						e.MatMul(y, ms[i%len(ms)], x, n)
					}
				})
			}
			run("matvec", 1, one.Bytes())
			run("matmul64", 64, 64) // bytes: tokens, so MB/s reads as millions of tokens/s
		}
	}
}
