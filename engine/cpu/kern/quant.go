package kern

import (
	"fmt"
	"math"
)

// Quantize returns a copy of the float matrix m in MLX affine form with bits
// 4 or 8 and groups of gs columns, its scales and biases stored as sd (F32,
// F16 or BF16). Per group bias = min and scale = (max-min)/(2^bits-1), both
// rounded to sd before the codes are chosen, so dequantizing with the stored
// values gives the nearest representable weight. Rows are spread over pool.
func Quantize(pool *Pool, m *Mat, bits, gs int, sd DType) (*Mat, error) {
	if bits != 4 && bits != 8 {
		return nil, fmt.Errorf("quantize to %d bits: only 4 and 8 are supported", bits)
	}
	if m.DType != F32 && m.DType != F16 && m.DType != BF16 {
		return nil, fmt.Errorf("quantize %s matrix: not a float matrix", m.DType)
	}
	if gs <= 0 || gs%32 != 0 || m.Cols%gs != 0 {
		return nil, fmt.Errorf("quantize %d columns in groups of %d: %w", m.Cols, gs, ErrShape)
	}
	if sd != F32 && sd != F16 && sd != BF16 {
		return nil, fmt.Errorf("quantize: scales dtype %s", sd)
	}
	q := &Mat{DType: Q8, Rows: m.Rows, Cols: m.Cols, GroupSize: gs}
	codes := m.Rows * m.Cols
	if bits == 4 {
		q.DType = Q4
		codes /= 2
	}
	q.Q = make([]byte, codes)
	groups := m.Rows * m.Cols / gs
	q.Scales, q.Biases = makeFloats(sd, groups), makeFloats(sd, groups)
	t := &quantTask{src: m, dst: q, bufs: make([][]float32, pool.Threads())}
	pool.run(t, (m.Rows+tileRows-1)/tileRows)
	return q, nil
}

func makeFloats(d DType, n int) Floats {
	if d == F32 {
		return Floats{DType: d, F32: make([]float32, n)}
	}
	return Floats{DType: d, U16: make([]uint16, n)}
}

// set stores v rounded to f's type and returns the stored value.
func (f *Floats) set(i int, v float32) float32 {
	switch f.DType {
	case F16:
		f.U16[i] = F32ToF16(v)
	case BF16:
		f.U16[i] = F32ToBF16(v)
	default:
		f.F32[i] = v
	}
	return f.At(i)
}

type quantTask struct {
	src, dst *Mat
	bufs     [][]float32 // per thread: one float row
}

func (t *quantTask) runChunk(c, tid int) {
	m, q := t.src, t.dst
	t.bufs[tid] = grow(t.bufs[tid], m.Cols)
	row := t.bufs[tid]
	for r := c * tileRows; r < min((c+1)*tileRows, m.Rows); r++ {
		m.Row(row, r)
		for g := 0; g < m.Cols/q.GroupSize; g++ {
			quantGroup(q, r, g, row[g*q.GroupSize:(g+1)*q.GroupSize])
		}
	}
}

// quantGroup quantizes group g of row r from its float values w.
func quantGroup(q *Mat, r, g int, w []float32) {
	levels := float32(255)
	if q.DType == Q4 {
		levels = 15
	}
	lo, hi := w[0], w[0]
	for _, v := range w {
		lo, hi = min(lo, v), max(hi, v)
	}
	idx := r*(q.Cols/q.GroupSize) + g
	b := q.Biases.set(idx, lo)
	s := q.Scales.set(idx, (hi-lo)/levels)
	if s == 0 || math.IsInf(float64(s), 0) || s != s {
		s = q.Scales.set(idx, 1) // constant group (or unrepresentable range): the bias carries it
	}
	col0 := r*q.Cols + g*q.GroupSize
	for j, v := range w {
		c := byte(min(max(math.Round(float64((v-b)/s)), 0), float64(levels)))
		i := col0 + j
		if q.DType == Q8 {
			q.Q[i] = c
		} else {
			q.Q[i/2] |= c << (4 * (i % 2))
		}
	}
}
