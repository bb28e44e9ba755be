//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX2 (with FMA) kernels: the AVX-512 designs at 8 lanes, for x86 CPUs
// without AVX-512. Quantized products keep x in float32 (the exact path of
// the AVX-512 set); tails and everything else use the Go code.

type f32x8 = archsimd.Float32x8

func ldf8(p unsafe.Pointer) f32x8 { return archsimd.LoadFloat32x8Array((*[8]float32)(p)) }

func ldh8(p unsafe.Pointer) archsimd.Uint32x8 {
	return archsimd.LoadUint16x8Array((*[8]uint16)(p)).ExtendToUint32()
}

func ldu8(p *[16]uint32) archsimd.Uint32x8 { return archsimd.LoadUint32x8Array((*[8]uint32)(p[:8])) }

func lf8(p *[16]float32) f32x8 { return archsimd.LoadFloat32x8Array((*[8]float32)(p[:8])) }

func hsum8(v f32x8) float32 {
	v4 := v.GetLo().Add(v.GetHi())
	return (v4.GetElem(0) + v4.GetElem(1)) + (v4.GetElem(2) + v4.GetElem(3))
}

// h2f8 is h2f on 8 lanes.
func h2f8(u archsimd.Uint32x8) f32x8 {
	em := u.And(ldu8(&cHalfEm)).ShiftAllLeft(13)
	f := em.BitsToFloat32().Mul(lf8(&cHalfMul)).ToBits()
	f = f.Or(u.ShiftAllRight(15).ShiftAllLeft(31))
	f = f.Or(ldu8(&cInfBits).Masked(em.GreaterEqual(ldu8(&cHalfExp))))
	return f.BitsToFloat32()
}

func bf2f8(u archsimd.Uint32x8) f32x8 { return u.ShiftAllLeft(16).BitsToFloat32() }

func avx2RowsF32(y, w []float32, cols int, x []float32) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	if vec == 0 {
		goRowsF32(y, w, cols, x)
		return
	}
	xp, wp, stride := unsafe.Pointer(&x[0]), unsafe.Pointer(&w[0]), uintptr(cols)*4
	var out [4]float32
	for i := 0; i < len(y); {
		n := min(4, len(y)-i)
		avx2Dot4(&out, xp, unsafe.Add(wp, uintptr(i)*stride), stride, vec, n, 0)
		for r := 0; r < n; r++ {
			y[i+r] = out[r] + goDot(w[(i+r)*cols+vec:(i+r+1)*cols], x[vec:])
		}
		i += n
	}
}

func avx2RowsF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	avx2RowsHalf(y, w, cols, x, 1)
}

func avx2RowsBF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	avx2RowsHalf(y, w, cols, x, 2)
}

func avx2RowsHalf(y []float32, w []uint16, cols int, x []float32, kind int) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	tail := goDotF16
	if kind == 2 {
		tail = goDotBF16
	}
	if vec == 0 {
		for i := range y {
			y[i] = tail(x, w[i*cols:(i+1)*cols])
		}
		return
	}
	// One row at a time through the assembly loops (BF16 always, F16 with
	// F16C): each thread then streams its rows sequentially, four FMA
	// chains per row (2048×2048 from memory, two threads, 2 GHz Zen 1: F16
	// 4.7 -> 15 GB/s of weights, BF16 10.5 -> 11-13; the triad is 22).
	if kind == 2 || hasF16C {
		dot := bf16Dot
		if kind == 1 {
			dot = f16cDot
		}
		for i := range y {
			row := w[i*cols : (i+1)*cols]
			y[i] = dot(&x[0], &row[0], vec) + tail(x[vec:], row[vec:])
		}
		return
	}
	xp, wp, stride := unsafe.Pointer(&x[0]), unsafe.Pointer(&w[0]), uintptr(cols)*2
	var out [4]float32
	for i := 0; i < len(y); {
		n := min(4, len(y)-i)
		avx2Dot4(&out, xp, unsafe.Add(wp, uintptr(i)*stride), stride, vec, n, kind)
		for r := 0; r < n; r++ {
			y[i+r] = out[r] + tail(x[vec:], w[(i+r)*cols+vec:(i+r+1)*cols])
		}
		i += n
	}
}

// avx2Dot4 computes the first n (a multiple of 8) columns of m ≤ 4 rows of
// w (kind 0: float32, 1: F16, 2: BF16) times x.
//
//go:noinline
func avx2Dot4(out *[4]float32, x, w unsafe.Pointer, stride uintptr, n, m, kind int) {
	w1, w2, w3 := rowPtrs(w, stride, m)
	var a0, a1, a2, a3 f32x8
	switch kind {
	case 0:
		for o := uintptr(0); o < uintptr(n)*4; o += 32 {
			xv := ldf8(unsafe.Add(x, o))
			a0, a1 = ldf8(unsafe.Add(w, o)).MulAdd(xv, a0), ldf8(unsafe.Add(w1, o)).MulAdd(xv, a1)
			a2, a3 = ldf8(unsafe.Add(w2, o)).MulAdd(xv, a2), ldf8(unsafe.Add(w3, o)).MulAdd(xv, a3)
		}
	case 1:
		for o := uintptr(0); o < uintptr(n)*2; o += 16 {
			xv := ldf8(unsafe.Add(x, 2*o))
			a0, a1 = h2f8(ldh8(unsafe.Add(w, o))).MulAdd(xv, a0), h2f8(ldh8(unsafe.Add(w1, o))).MulAdd(xv, a1)
			a2, a3 = h2f8(ldh8(unsafe.Add(w2, o))).MulAdd(xv, a2), h2f8(ldh8(unsafe.Add(w3, o))).MulAdd(xv, a3)
		}
	default:
		for o := uintptr(0); o < uintptr(n)*2; o += 16 {
			xv := ldf8(unsafe.Add(x, 2*o))
			a0, a1 = bf2f8(ldh8(unsafe.Add(w, o))).MulAdd(xv, a0), bf2f8(ldh8(unsafe.Add(w1, o))).MulAdd(xv, a1)
			a2, a3 = bf2f8(ldh8(unsafe.Add(w2, o))).MulAdd(xv, a2), bf2f8(ldh8(unsafe.Add(w3, o))).MulAdd(xv, a3)
		}
	}
	out[0], out[1], out[2], out[3] = hsum8(a0), hsum8(a1), hsum8(a2), hsum8(a3)
}

// avx2Dot1 is avx2Dot4 for one row, float32 (kind 0) or F16 (kind 1).
//
//go:noinline
func avx2Dot1(x, w unsafe.Pointer, n, kind int) float32 {
	var a0, a1 f32x8
	if kind == 0 {
		o, end := uintptr(0), uintptr(n)*4
		for ; o+64 <= end; o += 64 {
			a0 = ldf8(unsafe.Add(w, o)).MulAdd(ldf8(unsafe.Add(x, o)), a0)
			a1 = ldf8(unsafe.Add(w, o+32)).MulAdd(ldf8(unsafe.Add(x, o+32)), a1)
		}
		if o < end {
			a0 = ldf8(unsafe.Add(w, o)).MulAdd(ldf8(unsafe.Add(x, o)), a0)
		}
		return hsum8(a0.Add(a1))
	}
	for o := uintptr(0); o < uintptr(n)*2; o += 16 {
		a0 = h2f8(ldh8(unsafe.Add(w, o))).MulAdd(ldf8(unsafe.Add(x, 2*o)), a0)
	}
	return hsum8(a0)
}

func avx2Dot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	vec := n &^ 7
	if vec == 0 {
		return goDot(a, b)
	}
	return avx2Dot1(unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), vec, 0) + goDot(a[vec:], b[vec:])
}

func avx2DotF16(a []float32, b []uint16) float32 {
	n := len(a)
	b = b[:n]
	vec := n &^ 7
	if vec == 0 {
		return goDotF16(a, b)
	}
	if hasF16C {
		return f16cDot(&a[0], &b[0], vec) + goDotF16(a[vec:], b[vec:])
	}
	return avx2Dot1(unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), vec, 1) + goDotF16(a[vec:], b[vec:])
}
