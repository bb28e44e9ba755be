//go:build goexperiment.simd && amd64

#include "textflag.h"
#include "attnpf_amd64.h"

// Attention over a half KV cache, a block of positions per call
// (avx2_attnf16.go).

// func f16cScores(s *float32, q *float32, k *uint16, stride, n, hd int)
TEXT ·f16cScores(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), BX
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), DI
	MOVQ stride+24(FP), R8
	SHLQ $1, R8 // bytes per row
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), DX
	SHLQ $1, DX // bytes of halves per row
	IMUL3Q $AHEAD, R8, R13
	ADDQ DI, R13 // the row AHEAD positions on
sc4:
	CMPQ CX, $4
	JLT  sc1
	LEAQ (DI)(R8*1), R9
	LEAQ (DI)(R8*2), R10
	LEAQ (R10)(R8*1), R11
	PFROW(R13, scpf0)
	PFROW(R13, scpf1)
	PFROW(R13, scpf2)
	PFROW(R13, scpf3)
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
sc4inner:
	VMOVUPS (SI)(AX*2), Y8
	VCVTPH2PS (DI)(AX*1), Y4
	VCVTPH2PS (R9)(AX*1), Y5
	VCVTPH2PS (R10)(AX*1), Y6
	VCVTPH2PS (R11)(AX*1), Y7
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y8, Y5, Y1
	VFMADD231PS Y8, Y6, Y2
	VFMADD231PS Y8, Y7, Y3
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  sc4inner
	// [p0 p1 p2 p3] = per position (l0+l1)+(l2+l3) + (l4+l5)+(l6+l7), the
	// order of the single-position path below.
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (BX)
	ADDQ $16, BX
	LEAQ (R11)(R8*1), DI
	SUBQ $4, CX
	JMP  sc4
sc1:
	CMPQ CX, $0
	JLE  scdone
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
sc1inner:
	VCVTPH2PS (DI)(AX*1), Y4
	VFMADD231PS (SI)(AX*2), Y4, Y0
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  sc1inner
	VHADDPS Y0, Y0, Y0
	VHADDPS Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	MOVSS X0, (BX)
	ADDQ $4, BX
	ADDQ R8, DI
	DECQ CX
	JMP  sc1
scdone:
	VZEROUPPER
	RET

// func f16cValues(out *float32, w *float32, v *uint16, stride, n, hd int)
TEXT ·f16cValues(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), BX
	MOVQ w+8(FP), SI
	MOVQ v+16(FP), DI
	MOVQ stride+24(FP), R8
	SHLQ $1, R8
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), DX
	IMUL3Q $AHEAD, R8, R12 // AHEAD rows on
va32:
	CMPQ DX, $32
	JLT  va8
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	MOVQ DI, R9
	XORQ AX, AX
va32inner:
	CMPQ AX, CX
	JGE  va32store
	PREFETCHT0 (R9)(R12*1)
	VBROADCASTSS (SI)(AX*4), Y8
	VCVTPH2PS (R9), Y4
	VCVTPH2PS 16(R9), Y5
	VCVTPH2PS 32(R9), Y6
	VCVTPH2PS 48(R9), Y7
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y8, Y5, Y1
	VFMADD231PS Y8, Y6, Y2
	VFMADD231PS Y8, Y7, Y3
	ADDQ R8, R9
	INCQ AX
	JMP  va32inner
va32store:
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, 64(BX)
	VMOVUPS Y3, 96(BX)
	ADDQ $128, BX
	ADDQ $64, DI
	SUBQ $32, DX
	JMP  va32
va8:
	CMPQ DX, $8
	JLT  vadone
	VMOVUPS (BX), Y0
	MOVQ DI, R9
	XORQ AX, AX
va8inner:
	CMPQ AX, CX
	JGE  va8store
	PREFETCHT0 (R9)(R12*1)
	VBROADCASTSS (SI)(AX*4), Y8
	VCVTPH2PS (R9), Y4
	VFMADD231PS Y8, Y4, Y0
	ADDQ R8, R9
	INCQ AX
	JMP  va8inner
va8store:
	VMOVUPS Y0, (BX)
	ADDQ $32, BX
	ADDQ $16, DI
	SUBQ $8, DX
	JMP  va8
vadone:
	VZEROUPPER
	RET

// f16cScores3 is f16cScores for three heads sharing the rows of k (a
// grouped-query attention group): each row is converted once for the three
// heads' queries (at q + h·qs floats) and the scores of head h go to s +
// h·ns floats. Only whole fours of positions (n is a multiple of 4); per
// head and position the operations are those of f16cScores' four-position
// path, so the scores are the same bits.

// func f16cScores3(s *float32, ns int, q *float32, qs int, k *uint16, stride, n, hd int, next *uint16)
TEXT ·f16cScores3(SB), NOSPLIT, $16-72
	MOVQ s+0(FP), BX
	MOVQ ns+8(FP), R12
	SHLQ $2, R12 // bytes between heads' scores
	MOVQ q+16(FP), SI
	MOVQ qs+24(FP), R13
	SHLQ $2, R13
	LEAQ (SI)(R13*1), R14
	LEAQ (R14)(R13*1), R15
	MOVQ k+32(FP), DI
	MOVQ stride+40(FP), R8
	SHLQ $1, R8 // bytes per row
	MOVQ n+48(FP), CX
	MOVQ hd+56(FP), DX
	SHLQ $1, DX // bytes of halves per row
	IMUL3Q $AHEAD3, R8, R13
	ADDQ DI, R13 // the row AHEAD3 positions on
	NEXTSETUP(CX, DI, next+64(FP))
s3four:
	CMPQ CX, $4
	JLT  s3done
	PFNEXT(R13, s3pfok)
	LEAQ (DI)(R8*1), R9
	LEAQ (DI)(R8*2), R10
	LEAQ (R10)(R8*1), R11
	PFROW(R13, s3pf0)
	PFROW(R13, s3pf1)
	PFROW(R13, s3pf2)
	PFROW(R13, s3pf3)
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX
s3inner:
	VCVTPH2PS (DI)(AX*1), Y12
	VCVTPH2PS (R9)(AX*1), Y13
	VCVTPH2PS (R10)(AX*1), Y14
	VCVTPH2PS (R11)(AX*1), Y15
	VFMADD231PS (SI)(AX*2), Y12, Y0
	VFMADD231PS (SI)(AX*2), Y13, Y1
	VFMADD231PS (SI)(AX*2), Y14, Y2
	VFMADD231PS (SI)(AX*2), Y15, Y3
	VFMADD231PS (R14)(AX*2), Y12, Y4
	VFMADD231PS (R14)(AX*2), Y13, Y5
	VFMADD231PS (R14)(AX*2), Y14, Y6
	VFMADD231PS (R14)(AX*2), Y15, Y7
	VFMADD231PS (R15)(AX*2), Y12, Y8
	VFMADD231PS (R15)(AX*2), Y13, Y9
	VFMADD231PS (R15)(AX*2), Y14, Y10
	VFMADD231PS (R15)(AX*2), Y15, Y11
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  s3inner
	// per head, the reduction of f16cScores' four-position path
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (BX)
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VMOVUPS X4, (BX)(R12*1)
	VHADDPS Y9, Y8, Y8
	VHADDPS Y11, Y10, Y10
	VHADDPS Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS X9, X8, X8
	VMOVUPS X8, (BX)(R12*2)
	ADDQ $16, BX
	LEAQ (R11)(R8*1), DI
	SUBQ $4, CX
	JMP  s3four
s3done:
	VZEROUPPER
	RET

// f16cValues3 is f16cValues for three heads sharing the rows of v: each
// row is converted once and added, weighted by w + h·ws floats, to out +
// h·os floats, sixteen columns at a time (hd is a multiple of 16). Per
// head and lane, one FMA per position in position order, as f16cValues.

// func f16cValues3(out *float32, os int, w *float32, ws int, v *uint16, stride, n, hd int, next *uint16)
TEXT ·f16cValues3(SB), NOSPLIT, $16-72
	MOVQ out+0(FP), BX
	MOVQ os+8(FP), R12
	SHLQ $2, R12
	MOVQ w+16(FP), SI
	MOVQ ws+24(FP), R13
	SHLQ $2, R13
	LEAQ (SI)(R13*1), R14
	LEAQ (R14)(R13*1), R15
	MOVQ v+32(FP), DI
	MOVQ stride+40(FP), R8
	SHLQ $1, R8
	MOVQ n+48(FP), CX
	MOVQ hd+56(FP), DX
v3cols:
	CMPQ DX, $16
	JLT  v3done
	VALPF(R10, next+64(FP), v+32(FP))
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS (BX)(R12*1), Y2
	VMOVUPS 32(BX)(R12*1), Y3
	VMOVUPS (BX)(R12*2), Y4
	VMOVUPS 32(BX)(R12*2), Y5
	MOVQ DI, R9
	XORQ AX, AX
v3inner:
	CMPQ AX, CX
	JGE  v3store
	PFNEXT(R10, v3pf)
	PREFETCHT0 (R10)
	ADDQ R8, R10
	VCVTPH2PS (R9), Y6
	VCVTPH2PS 16(R9), Y7
	VBROADCASTSS (SI)(AX*4), Y8
	VFMADD231PS Y8, Y6, Y0
	VFMADD231PS Y8, Y7, Y1
	VBROADCASTSS (R14)(AX*4), Y9
	VFMADD231PS Y9, Y6, Y2
	VFMADD231PS Y9, Y7, Y3
	VBROADCASTSS (R15)(AX*4), Y10
	VFMADD231PS Y10, Y6, Y4
	VFMADD231PS Y10, Y7, Y5
	ADDQ R8, R9
	INCQ AX
	JMP  v3inner
v3store:
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, (BX)(R12*1)
	VMOVUPS Y3, 32(BX)(R12*1)
	VMOVUPS Y4, (BX)(R12*2)
	VMOVUPS Y5, 32(BX)(R12*2)
	ADDQ $64, BX
	ADDQ $32, DI
	SUBQ $16, DX
	JMP  v3cols
v3done:
	VZEROUPPER
	RET

// func f16cFromF32(dst *uint16, src *float32, n int) bool
// dst[i] = half(src[i]) for i < n (a multiple of 8), rounding to nearest
// even as F32ToF16 does; false, with dst partly written, when src holds a
// NaN (F32ToF16 gives every NaN one quiet pattern, VCVTPS2PH keeps the
// payload).
TEXT ·f16cFromF32(SB), NOSPLIT, $0-25
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
c16loop:
	CMPQ AX, CX
	JGE  c16ok
	VMOVUPS (SI)(AX*4), Y0
	VCMPPS $3, Y0, Y0, Y1 // unordered: NaN
	VMOVMSKPS Y1, DX
	TESTL DX, DX
	JNZ  c16nan
	VCVTPS2PH $0, Y0, X2
	VMOVDQU X2, (DI)(AX*2)
	ADDQ $8, AX
	JMP  c16loop
c16ok:
	MOVB $1, ret+24(FP)
	VZEROUPPER
	RET
c16nan:
	MOVB $0, ret+24(FP)
	VZEROUPPER
	RET
