//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 attention rows. Scores are computed 16 positions at a time, their
// 16 partial vectors folded into one vector of 16 scores (as in the gemm
// kernel) instead of 16 horizontal sums; the weighted sum of values keeps
// each 64 output lanes in registers across all positions instead of loading
// and storing them once per position. Head sizes that are not a multiple of
// 16 use the Go code.

func avx512AttnScores(s, q, k []float32, stride int) {
	hd := len(q)
	if hd%16 != 0 || hd > 256 {
		goAttnScores(s, q, k, stride)
		return
	}
	k = k[:(len(s)-1)*stride+hd]
	p := 0
	for ; p+16 <= len(s); p += 16 {
		scores16((*[16]float32)(s[p:]), unsafe.Pointer(&q[0]), unsafe.Pointer(&k[p*stride]), uintptr(stride)*4, hd)
	}
	switch {
	case p == len(s):
	case len(s) >= 16:
		// The last rows go through scores16 too, as the block of the last
		// 16 (those before them get their own bits again): a position's
		// score must be the same bits whether it ends a call or sits inside
		// one, or a cache split in blocks (or reused across requests) would
		// change the logits.
		p = len(s) - 16
		scores16((*[16]float32)(s[p:]), unsafe.Pointer(&q[0]), unsafe.Pointer(&k[p*stride]), uintptr(stride)*4, hd)
	default:
		// Fewer than 16 positions: copied into a block of 16.
		var rows [16 * 256]float32
		for i := range s {
			copy(rows[i*hd:(i+1)*hd], k[i*stride:])
		}
		var out [16]float32
		scores16(&out, unsafe.Pointer(&q[0]), unsafe.Pointer(&rows[0]), uintptr(hd)*4, hd)
		copy(s, out[:len(s)])
	}
}

// scores16 computes the dot products of q (hd values) with 16 rows of k.
//
//go:noinline
func scores16(out *[16]float32, q, k unsafe.Pointer, stride uintptr, hd int) {
	var a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 f32x16
	for o := uintptr(0); o < uintptr(hd)*4; o += 64 {
		qv := ldf(unsafe.Add(q, o))
		r := unsafe.Add(k, o)
		a0, a1 = ldf(r).MulAdd(qv, a0), ldf(unsafe.Add(r, stride)).MulAdd(qv, a1)
		a2, a3 = ldf(unsafe.Add(r, 2*stride)).MulAdd(qv, a2), ldf(unsafe.Add(r, 3*stride)).MulAdd(qv, a3)
		r = unsafe.Add(r, 4*stride)
		a4, a5 = ldf(r).MulAdd(qv, a4), ldf(unsafe.Add(r, stride)).MulAdd(qv, a5)
		a6, a7 = ldf(unsafe.Add(r, 2*stride)).MulAdd(qv, a6), ldf(unsafe.Add(r, 3*stride)).MulAdd(qv, a7)
		r = unsafe.Add(r, 4*stride)
		a8, a9 = ldf(r).MulAdd(qv, a8), ldf(unsafe.Add(r, stride)).MulAdd(qv, a9)
		a10, a11 = ldf(unsafe.Add(r, 2*stride)).MulAdd(qv, a10), ldf(unsafe.Add(r, 3*stride)).MulAdd(qv, a11)
		r = unsafe.Add(r, 4*stride)
		a12, a13 = ldf(r).MulAdd(qv, a12), ldf(unsafe.Add(r, stride)).MulAdd(qv, a13)
		a14, a15 = ldf(unsafe.Add(r, 2*stride)).MulAdd(qv, a14), ldf(unsafe.Add(r, 3*stride)).MulAdd(qv, a15)
	}
	p := &reduce
	l0, l1 := ldu(&p[0][0]), ldu(&p[0][1])
	v0, v1, v2, v3 := fold(a0, a1, l0, l1), fold(a2, a3, l0, l1), fold(a4, a5, l0, l1), fold(a6, a7, l0, l1)
	v4, v5, v6, v7 := fold(a8, a9, l0, l1), fold(a10, a11, l0, l1), fold(a12, a13, l0, l1), fold(a14, a15, l0, l1)
	l0, l1 = ldu(&p[1][0]), ldu(&p[1][1])
	v0, v1, v2, v3 = fold(v0, v1, l0, l1), fold(v2, v3, l0, l1), fold(v4, v5, l0, l1), fold(v6, v7, l0, l1)
	l0, l1 = ldu(&p[2][0]), ldu(&p[2][1])
	v0, v1 = fold(v0, v1, l0, l1), fold(v2, v3, l0, l1)
	l0, l1 = ldu(&p[3][0]), ldu(&p[3][1])
	fold(v0, v1, l0, l1).StoreArray(out)
}

func avx512AttnValues(out, w, v []float32, stride int) {
	hd := len(out)
	if hd%16 != 0 || len(w) == 0 {
		goAttnValues(out, w, v, stride)
		return
	}
	v = v[:(len(w)-1)*stride+hd]
	for c := 0; c < hd; c += 64 {
		values64(out[c:], unsafe.Pointer(&w[0]), unsafe.Pointer(&v[c]), uintptr(stride)*4, len(w), min(64, hd-c)/16)
	}
}

// values64 adds Σ_p w[p]·v[p·stride:] to out[:16·vecs], vecs ≤ 4 vectors
// kept in registers over all n positions.
//
//go:noinline
func values64(out []float32, w, v unsafe.Pointer, stride uintptr, n, vecs int) {
	var a0, a1, a2, a3 f32x16
	o := unsafe.Pointer(&out[0])
	a0 = ldf(o)
	if vecs > 1 {
		a1 = ldf(unsafe.Add(o, 64))
	}
	if vecs > 2 {
		a2 = ldf(unsafe.Add(o, 128))
	}
	if vecs > 3 {
		a3 = ldf(unsafe.Add(o, 192))
	}
	for p := uintptr(0); p < uintptr(n); p++ {
		wp := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(w, 4*p)))
		r := unsafe.Add(v, p*stride)
		a0 = ldf(r).MulAdd(wp, a0)
		if vecs > 1 {
			a1 = ldf(unsafe.Add(r, 64)).MulAdd(wp, a1)
		}
		if vecs > 2 {
			a2 = ldf(unsafe.Add(r, 128)).MulAdd(wp, a2)
		}
		if vecs > 3 {
			a3 = ldf(unsafe.Add(r, 192)).MulAdd(wp, a3)
		}
	}
	a0.Store(out)
	if vecs > 1 {
		a1.Store(out[16:])
	}
	if vecs > 2 {
		a2.Store(out[32:])
	}
	if vecs > 3 {
		a3.Store(out[48:])
	}
}
