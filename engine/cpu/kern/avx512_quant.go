//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 rows of MLX affine-quantized matrices. Per group the codes are
// widened to float32 and multiplied with x; the group's partial vector is then
// scaled once: Σ(s·q+b)·x = s·Σq·x + b·Σx, where Σx per group (xsum) was
// computed once for all rows. A row is walked 16 groups at a time: their
// scales and biases are widened in one vector each, the bias term is one FMA
// with xsum (zero-padded past the last group), and the scales go through a
// small stack array from which the group loop broadcasts them.

const segGroups = 16

func avx512RowsQ8(y []float32, m *Mat, r0 int, xq, xsum []float32) {
	avx512RowsQuant(y, m, r0, xq, xsum, false)
}

func avx512RowsQ4(y []float32, m *Mat, r0 int, xq, xsum []float32) {
	avx512RowsQuant(y, m, r0, xq, xsum, true)
}

func avx512RowsQuant(y []float32, m *Mat, r0 int, xq, xsum []float32, q4 bool) {
	k := newHalfConv()
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes, groupBytes := cols, gs
	if q4 {
		rowBytes, groupBytes = cols/2, gs/2
	}
	xq, xsum = xq[:cols], xsum[:(ng+15)&^15]
	var sc [segGroups]float32
	for i := range y {
		r := r0 + i
		q := m.Q[r*rowBytes : (r+1)*rowBytes]
		var total float32
		var bacc f32x16
		for g0 := 0; g0 < ng; g0 += segGroups {
			n := min(segGroups, ng-g0)
			b := k.load16(&m.Biases, r*ng+g0)
			if n < segGroups {
				// Lanes past the row hold the next row's biases: keep a NaN
				// or Inf there from reaching the sum.
				b = b.Masked(archsimd.Mask32x16FromBits(uint16(1)<<n - 1))
			}
			bacc = b.MulAdd(archsimd.LoadFloat32x16(xsum[g0:]), bacc)
			k.load16(&m.Scales, r*ng+g0).Store(sc[:])
			qp := unsafe.Pointer(&q[g0*groupBytes])
			xp := unsafe.Pointer(&xq[g0*gs])
			if q4 {
				total += q4Groups(qp, xp, &sc, n, gs/32)
			} else {
				total += q8Groups(qp, xp, &sc, n, gs/32)
			}
		}
		y[i] = total + hsum16(bacc)
	}
}

// load16 widens 16 scales or biases from off on; past the end of f the
// lanes are zero.
func (k halfConv) load16(f *Floats, off int) f32x16 {
	if f.DType == F32 {
		if s := f.F32[off:]; len(s) >= 16 {
			return archsimd.LoadFloat32x16(s)
		}
		var t [16]float32
		copy(t[:], f.F32[off:])
		return archsimd.LoadFloat32x16(t[:])
	}
	var u archsimd.Uint32x16
	if s := f.U16[off:]; len(s) >= 16 {
		u = archsimd.LoadUint16x16(s).ExtendToUint32()
	} else {
		var t [16]uint16
		copy(t[:], s)
		u = archsimd.LoadUint16x16(t[:]).ExtendToUint32()
	}
	if f.DType == BF16 {
		return bf16f32(u)
	}
	return k.f32(u)
}

// widen converts len(dst) scales or biases from f at off to float32.
func widen(dst []float32, f *Floats, off int) {
	switch f.DType {
	case F32:
		copy(dst, f.F32[off:off+len(dst)])
	case F16:
		avx512F16ToF32(dst, f.U16[off:off+len(dst)])
	default:
		avx512BF16ToF32(dst, f.U16[off:off+len(dst)])
	}
}

// q8Groups returns Σ_g sc[g]·Σ q·x over n groups of 32·units codes.
//
//go:noinline
func q8Groups(q, x unsafe.Pointer, sc *[segGroups]float32, n, units int) float32 {
	var acc f32x16
	for g := 0; g < n; g++ {
		var g0, g1 f32x16
		for u := units; u > 0; u-- {
			g0 = ldb(q).ConvertToFloat32().MulAdd(ldf(x), g0)
			g1 = ldb(unsafe.Add(q, 16)).ConvertToFloat32().MulAdd(ldf(unsafe.Add(x, 64)), g1)
			q, x = unsafe.Add(q, 32), unsafe.Add(x, 128)
		}
		acc = g0.Add(g1).MulAdd(archsimd.BroadcastFloat32x16(sc[g]), acc)
	}
	return hsum16(acc)
}

// q4Groups is q8Groups for nibbles: 16 bytes hold 32 codes, low nibbles the
// even columns and high nibbles the odd ones, which avx512PrepQ4 laid out in
// x as 16 even then 16 odd values per 32 columns.
//
//go:noinline
func q4Groups(q, x unsafe.Pointer, sc *[segGroups]float32, n, units int) float32 {
	low := archsimd.BroadcastUint32x16(15)
	var acc f32x16
	for g := 0; g < n; g++ {
		var g0, g1 f32x16
		for u := units; u > 0; u-- {
			v := ldb(q)
			g0 = v.And(low).ConvertToFloat32().MulAdd(ldf(x), g0)
			g1 = v.ShiftAllRight(4).ConvertToFloat32().MulAdd(ldf(unsafe.Add(x, 64)), g1)
			q, x = unsafe.Add(q, 16), unsafe.Add(x, 128)
		}
		acc = g0.Add(g1).MulAdd(archsimd.BroadcastFloat32x16(sc[g]), acc)
	}
	return hsum16(acc)
}

// q4Perm splits 32 consecutive values into 16 even then 16 odd ones.
var q4Even, q4Odd = func() (e, o [16]uint32) {
	for i := range e {
		e[i], o[i] = uint32(2*i), uint32(2*i+1)
	}
	return e, o
}()

func avx512PrepQ4(xq, x []float32) {
	ev, od := archsimd.LoadUint32x16(q4Even[:]), archsimd.LoadUint32x16(q4Odd[:])
	xq = xq[:len(x)]
	j := 0
	for ; j+32 <= len(x); j += 32 {
		a, b := archsimd.LoadFloat32x16(x[j:]), archsimd.LoadFloat32x16(x[j+16:])
		a.ConcatPermute(b, ev).Store(xq[j:])
		a.ConcatPermute(b, od).Store(xq[j+16:])
	}
	// Q4 rows are whole groups of 32 columns (Mat.Check), so nothing is left.
}

// q4Lo, q4Hi interleave the even-column and odd-column vectors of 32 nibble
// codes back into column order.
var q4Lo, q4Hi = func() (lo, hi [16]uint32) {
	for i := 0; i < 8; i++ {
		lo[2*i], lo[2*i+1] = uint32(i), uint32(16+i)
		hi[2*i], hi[2*i+1] = uint32(8+i), uint32(24+i)
	}
	return lo, hi
}()

// avx512Dequant expands quantized row r into dst: the weight tiles of
// prefill's matrix product.
func avx512Dequant(dst []float32, m *Mat, r int) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	dst = dst[:cols]
	var sc, bs [segGroups]float32
	lo, hi := archsimd.LoadUint32x16(q4Lo[:]), archsimd.LoadUint32x16(q4Hi[:])
	low := archsimd.BroadcastUint32x16(15)
	for g0 := 0; g0 < ng; g0 += segGroups {
		n := min(segGroups, ng-g0)
		widen(sc[:n], &m.Scales, r*ng+g0)
		widen(bs[:n], &m.Biases, r*ng+g0)
		for g := 0; g < n; g++ {
			s, b := archsimd.BroadcastFloat32x16(sc[g]), archsimd.BroadcastFloat32x16(bs[g])
			c0 := (g0 + g) * gs
			out := dst[c0 : c0+gs]
			if m.DType == Q8 {
				q := m.Q[r*cols+c0 : r*cols+c0+gs]
				for j := 0; j < gs; j += 16 {
					ldb(unsafe.Pointer(&q[j])).ConvertToFloat32().MulAdd(s, b).Store(out[j:])
				}
				continue
			}
			q := m.Q[(r*cols+c0)/2 : (r*cols+c0+gs)/2]
			for j := 0; j < gs; j += 32 {
				v := ldb(unsafe.Pointer(&q[j/2]))
				e := v.And(low).ConvertToFloat32().MulAdd(s, b)
				o := v.ShiftAllRight(4).ConvertToFloat32().MulAdd(s, b)
				e.ConcatPermute(o, lo).Store(out[j:])
				e.ConcatPermute(o, hi).Store(out[j+16:])
			}
		}
	}
}
