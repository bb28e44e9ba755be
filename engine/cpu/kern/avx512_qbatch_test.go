//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestBatchVNNISameBits: the AVX-512 integer batched kernels (VPDPWSSD) give
// the AVX2 kernels' outputs bit for bit, Q8 and Q4, at every group size they
// take, for the pair kernel's batch sizes (4-6, and the inputs past a block
// of eight) and the lane kernel's (blocks of eight, a padded seven), and at
// the int32 sums' largest (codes 255, every xw ±32767, groups of 256), with
// the scales and biases stored as F16, BF16 and F32 (the quad kernels read
// them as stored; the extreme case adds subnormal scales and signed zeros,
// which their widening must keep). On a CPU without AVX512_VNNI both are
// the AVX2 kernels.
func TestBatchVNNISameBits(t *testing.T) {
	if !archsimd.X86.AVX2() || !archsimd.X86.FMA() {
		t.Skip("no AVX2: neither kernel runs on this CPU")
	}
	t.Logf("AVX512_VNNI: %v", archsimd.X86.AVX512VNNI())
	saved := active
	prep := *avx2Impl
	prep.prepXB = avx512Impl.prepXB // prepares the inputs for all (xw, dx, xs, xt and, with the quad kernels, xb)
	active = &prep
	defer func() { active = saved }()
	// Both sets' dispatch: the AVX2 set's, and the avx512 set's with the
	// quad kernels (five to seven inputs padded to eight, one to three past
	// the blocks through the lone rows kernel, here the AVX2 one in both).
	for _, policy := range []struct {
		pad  int
		lone bool
	}{{0, false}, {5, true}} {
		prep.qbatchPad, prep.qbatchLone = policy.pad, policy.lone
		t.Run(fmt.Sprintf("pad%d", policy.pad), func(t *testing.T) { testBatchVNNISameBits(t) })
	}
}

func testBatchVNNISameBits(t *testing.T) {
	pool := NewPool(1)
	defer pool.Close()
	e := NewExec(pool)
	e.SetIntInput(true)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, d := range []DType{Q8, Q4} {
		// The scales' and biases' types: each kind the quad kernels
		// read, and a pair of two (which they leave to the lane2 kernel).
		for _, sd := range [][2]DType{{F16, F16}, {BF16, BF16}, {F32, F32}, {F16, F32}} {
			for _, gs := range []int{32, 64, 128, 256} {
				// 512 columns, and seven groups (the quad kernels
				// take the scales four groups at a time, then one).
				for _, cols := range []int{512, 7 * gs} {
					for _, extreme := range []bool{false, true} {
						for _, n := range []int{2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16} {
							t.Run(fmt.Sprintf("%s/%s+%s/gs%d/cols%d/extreme=%v/n%d", d, sd[0], sd[1], gs, cols, extreme, n), func(t *testing.T) {
								testBatchVNNICase(t, e, rng, d, sd, gs, cols, extreme, n)
							})
						}
					}
				}
			}
		}
	}
}

// extremeScales puts values the widening must keep into f (scales or
// biases): the smallest and largest subnormals of its type, signed zeros,
// every few entries.
func extremeScales(rng *rand.Rand, f *Floats) {
	var odd []uint32
	switch f.DType {
	case F16:
		odd = []uint32{0x0001, 0x03ff, 0x8001, 0x83ff, 0x8000, 0x0000, 0x0400}
	case BF16:
		odd = []uint32{0x0001, 0x007f, 0x8001, 0x807f, 0x8000, 0x0000, 0x0080}
	default:
		odd = []uint32{0x00000001, 0x007fffff, 0x80000001, 0x807fffff, 0x80000000, 0, 0x00800000}
	}
	for i := 0; i < f.Len(); i += 1 + rng.IntN(3) {
		v := odd[rng.IntN(len(odd))]
		if f.DType == F32 {
			f.F32[i] = math.Float32frombits(v)
		} else {
			f.U16[i] = uint16(v)
		}
	}
}

func testBatchVNNICase(t *testing.T, e *Exec, rng *rand.Rand, d DType, sd [2]DType, gs, cols int, extreme bool, n int) {
	const rows = 14
	m := randMat(rng, d, rows, cols, gs, sd[0])
	if sd[1] != sd[0] {
		// Check gives both as float32, as the loader's does.
		m.Biases = randFloats(rng, sd[1], rows*cols/gs, -1, 1)
		if err := m.Check(); err != nil {
			t.Fatal(err)
		}
	}
	x := randVec(rng, n*cols)
	if extreme {
		extremeScales(rng, &m.Scales)
		extremeScales(rng, &m.Biases)
		for i := range m.Q {
			m.Q[i] = 255
		}
		for i := range x {
			// Every xw ±32767: odd inputs negative (the byte kernels'
			// hi byte at -128).
			x[i] = float32(1 + i/cols)
			if i/cols%2 == 1 {
				x[i] = -x[i]
			}
		}
	}
	b := &e.qb
	if !b.prepare(e, m, x, n, true) {
		t.Fatal("finite input refused")
	}
	tmp := make([]float32, qbatchTmp(m))
	// got has room past its n·rows outputs (the quad kernels store into
	// y themselves): that room must stay as it was.
	want, got := make([]float32, n*rows), make([]float32, n*rows+16)
	batchAsm(&avx2QB, want, m, 0, rows, b, tmp, true)
	// avx512QB, and without its quad kernel (the pair and lane2 kernels it
	// replaces where present).
	noQuad := avx512QB
	noQuad.quad, noQuad.quad4 = nil, nil
	for _, k := range []*qbatchInts{&avx512QB, &noQuad} {
		clear(got)
		for i := n * rows; i < len(got); i++ {
			got[i] = 42
		}
		batchAsm(k, got[:n*rows], m, 0, rows, b, tmp, true)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("quad %v: input %d row %d: %v, AVX2 %v", k.quad != nil, i/rows, i%rows, got[i], want[i])
			}
		}
		for i := n * rows; i < len(got); i++ {
			if got[i] != 42 {
				t.Fatalf("quad %v: stored past the outputs", k.quad != nil)
			}
		}
	}
}

// BenchmarkQbatchHot times the avx512 set's batched integer kernels on a
// matrix that stays in L2 (768×1024, gs 64: 768 KiB in Q8): their compute
// alone, without the weights' streaming from memory.
func BenchmarkQbatchHot(b *testing.B) {
	const rows, cols = 768, 1024
	rng := rand.New(rand.NewPCG(3, 4))
	if avx512QB.quad == nil {
		b.Skip("no quad kernels on this CPU")
	}
	for _, d := range []DType{Q8, Q4} {
		m := randMat(rng, d, rows, cols, 64, F16)
		for _, n := range []int{4, 6, 8, 12, 16} {
			x := randVec(rng, n*cols)
			y := make([]float32, n*rows)
			for _, im := range []*impl{avx512Impl} {
				b.Run(fmt.Sprintf("%s/n%d/%s", d, n, im.name), func(b *testing.B) {
					saved := active
					active = im
					defer func() { active = saved }()
					pool := NewPool(1)
					defer pool.Close()
					e := NewExec(pool)
					e.SetIntInput(true)
					cpuLoop(b, int64(2*n*rows*cols), func() { e.MatMul(y, m, x, n) }, "FLOP")
				})
			}
		}
	}
}

// TestInterleaveSB4: the four rows' scales and biases land where the lane
// kernel reads them, (groups, 2, 4), for every group count (the
// assembly's groups in fours and the Go tail).
func TestInterleaveSB4(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for ng := 1; ng <= 13; ng++ {
		sc, bs := randVec(rng, 4*ng), randVec(rng, 4*ng)
		sb := make([]float32, 8*ng+1)
		sb[8*ng] = 42 // past the end: untouched
		interleaveSB4(sb[:8*ng], sc, bs, ng)
		for g := range ng {
			for r := range 4 {
				if sb[8*g+r] != sc[r*ng+g] || sb[8*g+4+r] != bs[r*ng+g] {
					t.Fatalf("ng %d group %d row %d: scale %v bias %v, want %v %v", ng, g, r, sb[8*g+r], sb[8*g+4+r], sc[r*ng+g], bs[r*ng+g])
				}
			}
		}
		if sb[8*ng] != 42 {
			t.Fatalf("ng %d: wrote past the groups", ng)
		}
	}
}
