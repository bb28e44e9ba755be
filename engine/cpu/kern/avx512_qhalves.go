//go:build goexperiment.simd && amd64

package kern

import (
	"unsafe"

	"simd/archsimd"
)

// intHalves selects rowsIntHalves for rows of one or two units per group
// in the avx512 set (a variable so that the tests and benchmarks can
// compare it with the one-row and four-row kernels).
var intHalves = true

var hasVBMI = archsimd.X86.AVX512VBMI()

// avx512PairXW is the avx512 set's impl.pairXW: xwPair where
// rowsIntHalves can run its 4-bit rows.
var avx512PairXW = func() func(dst, xw []int16, ng, units int) {
	if hasVNNI && hasVBMI {
		return xwPair
	}
	return nil
}()

// avx512RowsIntHalves is avx2RowsInt for rows of one or two units (32 or
// 64 columns) per group: rows i and h+i of the chunk together through
// rowsIntHalves, an odd last row through rowsIntVNNI. 4-bit rows take xw
// in xwPair's order and need VBMI. It reports false, having done nothing,
// where those kernels do not apply.
func avx512RowsIntHalves(y []float32, m *Mat, r0 int, in *qin, q4 bool) bool {
	units := m.GroupSize / 32
	if !intHalves || !hasVNNI || units > 2 || (m.Scales.DType == F16 && !hasF16C) {
		return false
	}
	xw := in.qi.xw
	if q4 {
		if !hasVBMI || len(in.qi.xwp) < m.Cols {
			return false
		}
		xw = in.qi.xwp
	}
	n := len(y)
	if n == 0 {
		return true
	}
	ng := m.Cols / m.GroupSize
	rowBytes := m.codeRowBytes()
	kind, elem, sc, bs := qintScaleArgs(m)
	_ = m.Q[(r0+n)*rowBytes-1]
	sstride := ng * int(elem)
	q, sc, bs := unsafe.Pointer(&m.Q[r0*rowBytes]), unsafe.Add(sc, r0*sstride), unsafe.Add(bs, r0*sstride)
	if h := n / 2; h > 0 {
		rowsIntHalves(q, rowBytes, &xw[0], &in.qi.dx[0], &in.xsum[0], sc, bs, sstride, kind, ng, units, q4, &y[0], h)
	}
	if n&1 != 0 {
		r := n - 1
		rowsIntVNNI(unsafe.Add(q, r*rowBytes), rowBytes, &in.qi.xw[0], &in.qi.dx[0], &in.xsum[0],
			unsafe.Add(sc, r*sstride), unsafe.Add(bs, r*sstride), sstride, kind, ng, units, q4, &y[r], 1)
	}
	return true
}

// xwPair writes xw (Q4 order: per unit of 32 columns the 16 even ones, then
// the 16 odd ones) in rowsIntHalves's order: per pair of groups g, g+1 and
// per unit k, unit k's 16 even values of g, then of g+1, then their 16 odd
// ones of g, then of g+1; an odd last group as it is.
func xwPair(dst, xw []int16, ng, units int) {
	gw := 32 * units // values per group
	pairs := ng / 2
	if pairs > 0 {
		_, _ = dst[2*pairs*gw-1], xw[2*pairs*gw-1]
		xwPairUnits(&dst[0], &xw[0], pairs, units)
	}
	if g := 2 * pairs; g < ng {
		copy(dst[g*gw:(g+1)*gw], xw[g*gw:(g+1)*gw])
	}
}

// xwPairUnits is xwPair for the first pairs pairs of groups.
//
//go:noescape
func xwPairUnits(dst, xw *int16, pairs, units int)

// rowsIntHalves is rowInt for the 2·h rows at q, q+stride, …, whose
// scales and biases start sstride bytes apart, row i together with row
// h+i (4-bit rows with xw in xwPair's order); it writes their products to
// y[0:2h], each with rowInt's bits.
//
//go:noescape
func rowsIntHalves(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32, h int)
