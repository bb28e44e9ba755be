package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackedSameBitsEverySet: the packed prefill gives the same bits in
// every set that has it. Each set's micro-kernel runs one FMA per column
// into each accumulator, in column order, and each block conversion computes
// the same floats (s·q+b fused), so a product must not depend on the tile
// shape (6×16 ymm, 12×16 zmm, or 12×32 over two panels). Weight types of every kind, F16 with
// subnormal and extreme halves, rows that end in a partial micro-tile and a
// partial chunk, widths with column tails (not a multiple of 4, 8 or 16, or
// of a block), and token counts with a narrow or partial last panel and
// with panels that pair up for micro2 (29: a partial second panel; 48: an
// odd full one left alone).
func TestPackedSameBitsEverySet(t *testing.T) {
	var sets []*impl
	for _, im := range impls() {
		if im.micro != nil {
			sets = append(sets, im)
		}
	}
	if len(sets) < 2 {
		t.Logf("%d set(s) with a packed path on this CPU: nothing to compare", len(sets))
	}
	rng := rand.New(rand.NewPCG(19, 5))
	type shape struct {
		d          DType
		rows, cols int
		gs         int
		sd         DType
	}
	shapes := []shape{
		{F32, 61, 320, 0, F32},
		{F32, 13, 203, 0, F32}, // column tail of 3; rows not a multiple of 6
		{F32, 100, 600, 0, F32},
		{F16, 50, 264, 0, F32},
		{F16, 7, 21, 0, F32}, // conversion tail
		{BF16, 49, 520, 0, F32},
		{Q8, 53, 320, 64, F16},
		{Q4, 61, 512, 32, BF16},
		{Q4, 12, 384, 128, F16},
		{Q8, 97, 256, 32, F32},
	}
	for _, sh := range shapes {
		m := randMat(rng, sh.d, sh.rows, sh.cols, sh.gs, sh.sd)
		if sh.d == F16 {
			for i, h := range []uint16{0x0001, 0x8001, 0x03ff, 0x7bff, 0xfbff, 0x0400} {
				m.U16[(i*7919)%len(m.U16)] = h
			}
		}
		for _, n := range []int{4, 9, 16, 29, 37, 48, 64} {
			x := randVec(rng, n*sh.cols)
			var want []float32
			for _, im := range sets {
				name := fmt.Sprintf("%s-%dx%d-g%d/n%d/%s", sh.d, sh.rows, sh.cols, sh.gs, n, im.name)
				saved := active
				active = im
				pool := NewPool(2)
				e := NewExec(pool)
				y := make([]float32, n*sh.rows)
				e.matMulPacked(y, m, x, n)
				pool.Close()
				active = saved
				if want == nil {
					want = y
					// The first set against the float64 reference, so that
					// agreeing sets are also right.
					for i := 0; i < n; i++ {
						ref, mag := refMatVec(m, x[i*sh.cols:(i+1)*sh.cols])
						for r := range ref {
							if got := y[i*sh.rows+r]; !close32(got, ref[r], mag[r]) {
								t.Fatalf("%s token %d row %d: %v, reference %v", name, i, r, got, ref[r])
							}
						}
					}
					continue
				}
				for i := range y {
					if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s value %d: %v, %s gives %v", name, i, y[i], sets[0].name, want[i])
					}
				}
			}
		}
	}
}
