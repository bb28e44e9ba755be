//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// Preparation for the AVX-512 quantized kernels: the input x laid out for
// them, scales and biases widened to float32, and rows expanded to float32
// for prefill's weight tiles.

// widenPad widens n scales or biases from f at off into dst as float32 and
// zeroes dst up to the next multiple of 16. Whole vectors are loaded even
// past n (masked off) while they stay inside f; only the very end of f goes
// through the scalar code.
func widenPad(dst []float32, f *Floats, off, n int) {
	j := 0
	for ; j < n; j += 16 {
		mask := archsimd.Mask32x16FromBits(uint16(1<<min(16, n-j) - 1))
		var v f32x16
		switch f.DType {
		case F32:
			if len(f.F32) < off+j+16 {
				goto scalar
			}
			v = archsimd.LoadFloat32x16(f.F32[off+j:])
		case F16, BF16:
			if len(f.U16) < off+j+16 {
				goto scalar
			}
			h := archsimd.LoadUint16x16(f.U16[off+j:])
			switch {
			case f.DType == BF16:
				v = bf16f32(h.ExtendToUint32())
			case f.finite:
				v = h2fFinite(h.AsInt16x16().ExtendToInt32())
			default:
				v = h2f(h.ExtendToUint32())
			}
		}
		v.Masked(mask).Store(dst[j:])
	}
	return
scalar:
	for ; j < (n+15)&^15; j++ {
		dst[j] = 0
		if j < n {
			dst[j] = f.At(off + j)
		}
	}
}

// avx512PrepQ lays out xf for m's kernels: x itself for Q8, 16 even then 16
// odd values per 32 columns for Q4 (low nibbles are the even columns).
func avx512PrepQ(in *qin, m *Mat) {
	x := in.x
	if m.DType == Q8 {
		copy(in.xf, x)
		return
	}
	ev, od := ldu(&q4Even), ldu(&q4Odd)
	for j := 0; j+32 <= len(x); j += 32 {
		a, b := archsimd.LoadFloat32x16(x[j:]), archsimd.LoadFloat32x16(x[j+16:])
		a.ConcatPermute(b, ev).Store(in.xf[j:])
		a.ConcatPermute(b, od).Store(in.xf[j+16:])
	}
}

// q4Even, q4Odd split 32 consecutive values into the 16 even and the 16 odd ones.
var q4Even, q4Odd = func() (e, o [16]uint32) {
	for i := range e {
		e[i], o[i] = uint32(2*i), uint32(2*i+1)
	}
	return e, o
}()

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
	var sc, bs [rowGroups]float32
	lo, hi := archsimd.LoadUint32x16(q4Lo[:]), archsimd.LoadUint32x16(q4Hi[:])
	low := archsimd.BroadcastUint32x16(15)
	for g0 := 0; g0 < ng; g0 += rowGroups {
		n := min(rowGroups, ng-g0)
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
