//go:build goexperiment.simd && amd64

#include "textflag.h"
#include "halfdot_amd64.h"

// AVX2 decode kernels in assembly: the conversions they need (F16C's
// VCVTPH2PS, byte → dword widening straight from memory) either do not
// exist in simd/archsimd or compile to several times the instructions.
// Declarations and the reasons are in avx2_asm.go.

// func f16cDot(x *float32, w *uint16, n int) float32
TEXT ·f16cDot(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
f16loop32:
	CMPQ CX, $32
	JLT  f16loop8
	VCVTPH2PS (DI), Y4
	VCVTPH2PS 16(DI), Y5
	VCVTPH2PS 32(DI), Y6
	VCVTPH2PS 48(DI), Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  f16loop32
f16loop8:
	CMPQ CX, $8
	JLT  f16done
	F16_STEP8
	JMP  f16loop8
f16done:
	DOT4_SUM
	MOVSS X0, ret+24(FP)
	RET

// func bf16Dot(x *float32, w *uint16, n int) float32
TEXT ·bf16Dot(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
bf16loop32:
	CMPQ CX, $32
	JLT  bf16loop8
	VPMOVZXWD (DI), Y4
	VPMOVZXWD 16(DI), Y5
	VPMOVZXWD 32(DI), Y6
	VPMOVZXWD 48(DI), Y7
	VPSLLD $16, Y4, Y4
	VPSLLD $16, Y5, Y5
	VPSLLD $16, Y6, Y6
	VPSLLD $16, Y7, Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  bf16loop32
bf16loop8:
	CMPQ CX, $8
	JLT  bf16done
	BF16_STEP8
	JMP  bf16loop8
bf16done:
	DOT4_SUM
	MOVSS X0, ret+24(FP)
	RET

// func f16cAxpy(y *float32, a float32, x *uint16, n int)
TEXT ·f16cAxpy(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	VBROADCASTSS a+8(FP), Y8
	MOVQ x+16(FP), DI
	MOVQ n+24(FP), CX
axloop:
	CMPQ CX, $8
	JLT  axdone
	VCVTPH2PS (DI), Y4
	VFMADD213PS (SI), Y8, Y4
	VMOVUPS Y4, (SI)
	ADDQ $16, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  axloop
axdone:
	VZEROUPPER
	RET

// func f16cToF32(dst *float32, src *uint16, n int)
TEXT ·f16cToF32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), SI
	MOVQ src+8(FP), DI
	MOVQ n+16(FP), CX
cvloop:
	CMPQ CX, $8
	JLT  cvdone
	VCVTPH2PS (DI), Y4
	VMOVUPS Y4, (SI)
	ADDQ $16, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  cvloop
cvdone:
	VZEROUPPER
	RET

DATA low4<>+0(SB)/4, $15
GLOBL low4<>(SB), RODATA|NOPTR, $4

// func q8Dot(q *byte, x *float32, sc *float32, groups, units int) float32
// returns Σ_g sc[g]·Σq·x over groups of 32·units codes.
TEXT ·q8Dot(SB), NOSPLIT, $0-44
	MOVQ q+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ sc+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ units+32(FP), R8
	VXORPS Y9, Y9, Y9
q8group:
	TESTQ BX, BX
	JZ    q8done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ  R8, CX
q8unit:
	VPMOVZXBD (DI), Y4
	VPMOVZXBD 8(DI), Y5
	VPMOVZXBD 16(DI), Y6
	VPMOVZXBD 24(DI), Y7
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $32, DI
	ADDQ $128, SI
	DECQ CX
	JNZ  q8unit
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VBROADCASTSS (DX), Y8
	VFMADD231PS Y8, Y0, Y9
	ADDQ $4, DX
	DECQ BX
	JMP  q8group
q8done:
	VMOVAPS Y9, Y0
	HSUM_Y0
	VZEROUPPER
	MOVSS X0, ret+40(FP)
	RET

// func q4Dot(q *byte, x *float32, sc *float32, groups, units int) float32
// is q8Dot for nibbles, 32 codes (16 bytes) per unit, x laid out as 16
// even then 16 odd columns per 32 (low nibbles are the even columns).
TEXT ·q4Dot(SB), NOSPLIT, $0-44
	MOVQ q+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ sc+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ units+32(FP), R8
	VPBROADCASTD low4<>(SB), Y10
	VXORPS Y9, Y9, Y9
q4group:
	TESTQ BX, BX
	JZ    q4done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ  R8, CX
q4unit:
	VPMOVZXBD (DI), Y4
	VPMOVZXBD 8(DI), Y5
	VPSRLD $4, Y4, Y6
	VPSRLD $4, Y5, Y7
	VPAND Y10, Y4, Y4
	VPAND Y10, Y5, Y5
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $16, DI
	ADDQ $128, SI
	DECQ CX
	JNZ  q4unit
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VBROADCASTSS (DX), Y8
	VFMADD231PS Y8, Y0, Y9
	ADDQ $4, DX
	DECQ BX
	JMP  q4group
q4done:
	VMOVAPS Y9, Y0
	HSUM_Y0
	VZEROUPPER
	MOVSS X0, ret+40(FP)
	RET
