//go:build goexperiment.simd

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// NEON rows of MLX affine-quantized matrices. x stays float32 (NEON has no
// int16Q path: the results match the plain-Go set up to summation order):
// per group the codes are widened to float32, multiplied with x and the
// group's partial sum scaled once; the bias term is Σb·Σx.

const neonGroups = 256 // groups widened at once; longer rows are done in parts

// neonPrepQ lays out xf: x itself for Q8, 16 even then 16 odd values per 32
// columns for Q4, so that the low nibbles of 16 bytes (the even columns)
// and their high nibbles (the odd ones) each meet contiguous x.
func neonPrepQ(in *qin, m *Mat) {
	x := in.x
	if m.DType == Q8 {
		copy(in.xf, x)
		return
	}
	for j := 0; j+32 <= len(x); j += 32 {
		for i := 0; i < 16; i++ {
			in.xf[j+i], in.xf[j+16+i] = x[j+2*i], x[j+2*i+1]
		}
	}
}

func neonRowsQ8(y []float32, m *Mat, r0 int, in *qin) { neonRowsQuant(y, m, r0, in, false) }

func neonRowsQ4(y []float32, m *Mat, r0 int, in *qin) { neonRowsQuant(y, m, r0, in, true) }

func neonRowsQuant(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes, groupBytes := cols, gs
	if q4 {
		rowBytes, groupBytes = cols/2, gs/2
	}
	xsum, xf := in.xsum[:ng], in.xf[:cols]
	var sc, bs [neonGroups]float32
	for i := range y {
		r := r0 + i
		q := m.Q[r*rowBytes : (r+1)*rowBytes]
		var total float32
		for g0 := 0; g0 < ng; g0 += neonGroups {
			n := min(neonGroups, ng-g0)
			neonWiden(sc[:n], &m.Scales, r*ng+g0)
			neonWiden(bs[:n], &m.Biases, r*ng+g0)
			qp, xp := unsafe.Pointer(&q[g0*groupBytes]), unsafe.Pointer(&xf[g0*gs])
			total += neonDot(bs[:n], xsum[g0:g0+n])
			if q4 {
				total += neonQ4Row(qp, xp, unsafe.Pointer(&sc[0]), n, gs/32)
			} else {
				total += neonQ8Row(qp, xp, unsafe.Pointer(&sc[0]), n, gs/16)
			}
		}
		y[i] = total
	}
}

// neonWiden converts len(dst) scales or biases from f at off to float32.
func neonWiden(dst []float32, f *Floats, off int) {
	switch f.DType {
	case F32:
		copy(dst, f.F32[off:off+len(dst)])
	case F16:
		neonF16ToF32(dst, f.U16[off:off+len(dst)])
	default:
		neonBF16ToF32(dst, f.U16[off:off+len(dst)])
	}
}

// u8f16 widens 16 unsigned bytes to four float32 vectors (in order).
func u8f16(v archsimd.Uint8x16) (f32x4, f32x4, f32x4, f32x4) {
	lo, hi := v.ExtendLo8ToUint16(), v.HiToLo().ExtendLo8ToUint16()
	return lo.ExtendLo4ToUint32().ConvertToFloat32(), lo.HiToLo().ExtendLo4ToUint32().ConvertToFloat32(),
		hi.ExtendLo4ToUint32().ConvertToFloat32(), hi.HiToLo().ExtendLo4ToUint32().ConvertToFloat32()
}

func ldu8x16(p unsafe.Pointer) archsimd.Uint8x16 {
	return archsimd.LoadUint8x16Array((*[16]uint8)(p))
}

// neonQ8Row returns Σ_g sc[g]·Σq·x over n groups of 16·units codes.
//
//go:noinline
func neonQ8Row(q, x, sc unsafe.Pointer, n, units int) float32 {
	var acc f32x4
	var qo uintptr // byte offset into q; x is at four times that
	for g := uintptr(0); g < uintptr(n); g++ {
		var g0, g1, g2, g3 f32x4
		for u := units; u > 0; u-- {
			f0, f1, f2, f3 := u8f16(ldu8x16(unsafe.Add(q, qo)))
			xo := unsafe.Add(x, 4*qo)
			g0 = f0.MulAdd(ldf4(xo), g0)
			g1 = f1.MulAdd(ldf4(unsafe.Add(xo, 16)), g1)
			g2 = f2.MulAdd(ldf4(unsafe.Add(xo, 32)), g2)
			g3 = f3.MulAdd(ldf4(unsafe.Add(xo, 48)), g3)
			qo += 16
		}
		acc = g0.Add(g1).Add(g2.Add(g3)).MulAdd(archsimd.BroadcastFloat32x4(*(*float32)(unsafe.Add(sc, 4*g))), acc)
	}
	return hsum4(acc)
}

// neonQ4Row is neonQ8Row for nibbles, 32 codes (16 bytes) per unit, x laid
// out by neonPrepQ.
//
//go:noinline
func neonQ4Row(q, x, sc unsafe.Pointer, n, units int) float32 {
	low := archsimd.LoadUint8x16Array(&nLow4)
	var acc f32x4
	var qo uintptr // byte offset into q; x is at eight times that
	for g := uintptr(0); g < uintptr(n); g++ {
		var g0, g1, g2, g3 f32x4
		for u := units; u > 0; u-- {
			v := ldu8x16(unsafe.Add(q, qo))
			xo := unsafe.Add(x, 8*qo)
			f0, f1, f2, f3 := u8f16(v.And(low))
			g0 = f0.MulAdd(ldf4(xo), g0)
			g1 = f1.MulAdd(ldf4(unsafe.Add(xo, 16)), g1)
			g2 = f2.MulAdd(ldf4(unsafe.Add(xo, 32)), g2)
			g3 = f3.MulAdd(ldf4(unsafe.Add(xo, 48)), g3)
			f0, f1, f2, f3 = u8f16(v.ShiftAllRight(4))
			g0 = f0.MulAdd(ldf4(unsafe.Add(xo, 64)), g0)
			g1 = f1.MulAdd(ldf4(unsafe.Add(xo, 80)), g1)
			g2 = f2.MulAdd(ldf4(unsafe.Add(xo, 96)), g2)
			g3 = f3.MulAdd(ldf4(unsafe.Add(xo, 112)), g3)
			qo += 16
		}
		acc = g0.Add(g1).Add(g2.Add(g3)).MulAdd(archsimd.BroadcastFloat32x4(*(*float32)(unsafe.Add(sc, 4*g))), acc)
	}
	return hsum4(acc)
}

// neonDequant writes row r of a quantized matrix as float32 (s·q+b per
// value, one fused multiply-add), 16 codes at a time; for Q4 the nibbles are
// put back in column order with interleaves.
func neonDequant(dst []float32, m *Mat, r int) {
	gs := m.GroupSize
	if gs%16 != 0 {
		m.dequantRow(dst, r)
		return
	}
	dst = dst[:m.Cols]
	ng := m.Cols / gs
	low := archsimd.LoadUint8x16Array(&nLow4)
	for g := 0; g < ng; g++ {
		sv := archsimd.BroadcastFloat32x4(m.Scales.At(r*ng + g))
		bv := archsimd.BroadcastFloat32x4(m.Biases.At(r*ng + g))
		out := dst[g*gs : (g+1)*gs]
		if m.DType == Q8 {
			q := m.Q[r*m.Cols+g*gs : r*m.Cols+(g+1)*gs]
			for j := 0; j < gs; j += 16 {
				dq16(out[j:j+16], archsimd.LoadUint8x16(q[j:]), sv, bv)
			}
			continue
		}
		q := m.Q[(r*m.Cols+g*gs)/2 : (r*m.Cols+(g+1)*gs)/2]
		for j := 0; j < gs/2; j += 16 {
			v := archsimd.LoadUint8x16(q[j:])
			e, o := v.And(low), v.ShiftAllRight(4)
			dq16(out[2*j:2*j+16], e.InterleaveLo(o), sv, bv)
			dq16(out[2*j+16:2*j+32], e.InterleaveHi(o), sv, bv)
		}
	}
}

func dq16(out []float32, v archsimd.Uint8x16, s, b f32x4) {
	out = out[:16]
	f0, f1, f2, f3 := u8f16(v)
	f0.MulAdd(s, b).Store(out[0:])
	f1.MulAdd(s, b).Store(out[4:])
	f2.MulAdd(s, b).Store(out[8:])
	f3.MulAdd(s, b).Store(out[12:])
}
