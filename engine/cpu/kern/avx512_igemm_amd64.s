//go:build goexperiment.simd && amd64

#include "textflag.h"

// Packed prefill with int16 inputs (igemm.go): a tile of 12 weight rows ×
// 16 tokens. Per column pair: one load of the 16 tokens' two int16 values
// (one zmm) and 12 VPDPWSSD, each broadcasting its row's two int16 codes
// from memory ({1to16}), into 12 int32 accumulators (Z0-Z11): 32 products
// per instruction, twice an FMA's. A group's sums start from zero; at its
// end each row's sums become floats in 12 float accumulators (Z12-Z23):
//
//	u = float32(Σq·xq)·dx;  y = fma(u, s, y);  y = fma(Σx, b, y)
//
// always in that order, so a row's bits depend only on its codes and its
// token, not on where either falls in the call.
// Registers: weight rows 0-2 at (R8), (R8)(DX*1), (R8)(DX*2), rows 3-5 from
// R9, 6-8 from R10, 9-11 from R11 (DX = ldw·2 bytes); CX walks the panel,
// AX the panel's per-group dx (16 floats) and Σx (16 floats), SI the tile's
// per-group scales (12) and biases (12); R13 counts groups, R14 column
// pairs; the tokens of a pair are Z24 or Z25, dx Z26, Σx Z27.

// PAIR12 is one column pair: tokens at xo(CX) into zx, codes at wo of each row.
#define PAIR12(xo, wo, zx) \
	VMOVDQU32 xo(CX), zx; \
	VPDPWSSD.BCST wo(R8), zx, Z0; \
	VPDPWSSD.BCST wo(R8)(DX*1), zx, Z1; \
	VPDPWSSD.BCST wo(R8)(DX*2), zx, Z2; \
	VPDPWSSD.BCST wo(R9), zx, Z3; \
	VPDPWSSD.BCST wo(R9)(DX*1), zx, Z4; \
	VPDPWSSD.BCST wo(R9)(DX*2), zx, Z5; \
	VPDPWSSD.BCST wo(R10), zx, Z6; \
	VPDPWSSD.BCST wo(R10)(DX*1), zx, Z7; \
	VPDPWSSD.BCST wo(R10)(DX*2), zx, Z8; \
	VPDPWSSD.BCST wo(R11), zx, Z9; \
	VPDPWSSD.BCST wo(R11)(DX*1), zx, Z10; \
	VPDPWSSD.BCST wo(R11)(DX*2), zx, Z11

// EPI ends a group for one row: int32 sums zi, float accumulator zy,
// scale at so(SI), bias at bo(SI).
#define EPI(zi, zy, so, bo) \
	VCVTDQ2PS zi, zi; \
	VMULPS Z26, zi, zi; \
	VFMADD231PS.BCST so(SI), zi, zy; \
	VFMADD231PS.BCST bo(SI), Z27, zy

// func igemm12x16(c *float32, ldc int, w *int16, ldw int, sb *float32, xp *int16, xm *float32, groups, gs int, first bool)
TEXT ·igemm12x16(SB), NOSPLIT, $0-73
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R12
	MOVBLZX first+72(FP), SI
	TESTQ SI, SI
	JNZ i12zero
	MOVQ DI, R8
	VMOVUPS (R8), Z12
	VMOVUPS (R8)(BX*1), Z13
	VMOVUPS (R8)(BX*2), Z14
	ADDQ R12, R8
	VMOVUPS (R8), Z15
	VMOVUPS (R8)(BX*1), Z16
	VMOVUPS (R8)(BX*2), Z17
	ADDQ R12, R8
	VMOVUPS (R8), Z18
	VMOVUPS (R8)(BX*1), Z19
	VMOVUPS (R8)(BX*2), Z20
	ADDQ R12, R8
	VMOVUPS (R8), Z21
	VMOVUPS (R8)(BX*1), Z22
	VMOVUPS (R8)(BX*2), Z23
	JMP i12setup
i12zero:
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
i12setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $1, DX
	LEAQ (DX)(DX*2), R13
	LEAQ (R8)(R13*1), R9
	LEAQ (R9)(R13*1), R10
	LEAQ (R10)(R13*1), R11
	MOVQ sb+32(FP), SI
	MOVQ xp+40(FP), CX
	MOVQ xm+48(FP), AX
	MOVQ groups+56(FP), R13
	TESTQ R13, R13
	JZ i12done
i12group:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	MOVQ gs+64(FP), R14
	SHRQ $3, R14
i12pairs:
	PAIR12(0, 0, Z24)
	PAIR12(64, 4, Z25)
	PAIR12(128, 8, Z24)
	PAIR12(192, 12, Z25)
	ADDQ $256, CX
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	DECQ R14
	JNZ i12pairs
	VMOVUPS (AX), Z26
	VMOVUPS 64(AX), Z27
	EPI(Z0, Z12, 0, 48)
	EPI(Z1, Z13, 4, 52)
	EPI(Z2, Z14, 8, 56)
	EPI(Z3, Z15, 12, 60)
	EPI(Z4, Z16, 16, 64)
	EPI(Z5, Z17, 20, 68)
	EPI(Z6, Z18, 24, 72)
	EPI(Z7, Z19, 28, 76)
	EPI(Z8, Z20, 32, 80)
	EPI(Z9, Z21, 36, 84)
	EPI(Z10, Z22, 40, 88)
	EPI(Z11, Z23, 44, 92)
	ADDQ $128, AX
	ADDQ $96, SI
	DECQ R13
	JNZ i12group
i12done:
	MOVQ DI, R8
	VMOVUPS Z12, (R8)
	VMOVUPS Z13, (R8)(BX*1)
	VMOVUPS Z14, (R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z15, (R8)
	VMOVUPS Z16, (R8)(BX*1)
	VMOVUPS Z17, (R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z18, (R8)
	VMOVUPS Z19, (R8)(BX*1)
	VMOVUPS Z20, (R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z21, (R8)
	VMOVUPS Z22, (R8)(BX*1)
	VMOVUPS Z23, (R8)(BX*2)
	VZEROUPPER
	RET

// func i16WidenQ8(dst *int16, q *byte, n int)
// dst[i] = q[i] for n codes, n a multiple of 32.
TEXT ·i16WidenQ8(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX
	JZ w8done
w8loop:
	VPMOVZXBW (SI), Z0
	VMOVDQU16 Z0, (DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ w8loop
w8done:
	VZEROUPPER
	RET

// func i16WidenQ4(dst *int16, q *byte, n int)
// dst[i] = code i (the low nibble of q[i/2] for even i, the high one for
// odd i) for n codes, n a multiple of 32: per byte one dword, low | high<<16.
TEXT ·i16WidenQ4(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX
	JZ w4done
	MOVL $15, AX
	VPBROADCASTD AX, Z3
w4loop:
	VPMOVZXBD (SI), Z0
	VPANDD Z3, Z0, Z1
	VPSRLD $4, Z0, Z2
	VPSLLD $16, Z2, Z2
	VPORD Z1, Z2, Z1
	VMOVDQU32 Z1, (DI)
	ADDQ $16, SI
	ADDQ $64, DI
	DECQ CX
	JNZ w4loop
w4done:
	VZEROUPPER
	RET

// func i16PackPanel(dst *int16, xm *float32, xt *float32, groups, gs int) (ok bool)
// Rounds a panel of 16 tokens, given transposed as xt (cols, 16) floats, per
// group of gs columns to int16 as qintGroupGo does each token's group (amax
// = max|x|, dx = amax/32767, inv = 32767/amax or 0, xq = trunc(x·inv ± 0.5)
// clamped to ±32767: the same float32 operations, one lane per token), and
// writes per column pair the 16 tokens' two values as dwords (low: the even
// column) to dst, and per group the 16 dx then the 16 Σx (summed in column
// order, as groupSums) to xm. ok: every x finite (x-x is +0 for each,
// NaN for an Inf or a NaN: their bits ORed in Z28); when not, what dst and
// xm hold is not to be used.
TEXT ·i16PackPanel(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ xm+8(FP), AX
	MOVQ xt+16(FP), SI
	MOVQ groups+24(FP), CX
	MOVQ gs+32(FP), DX
	TESTQ CX, CX
	JZ ppdone
	MOVL $0x7fffffff, BX
	VPBROADCASTD BX, Z20
	MOVL $0x46fffe00, BX // 32767.0
	VPBROADCASTD BX, Z21
	MOVL $0x3f000000, BX // 0.5
	VPBROADCASTD BX, Z22
	MOVL $0x80000000, BX
	VPBROADCASTD BX, Z23
	MOVL $32767, BX
	VPBROADCASTD BX, Z24
	MOVL $-32767, BX
	VPBROADCASTD BX, Z25
	MOVL $0xffff, BX
	VPBROADCASTD BX, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
ppgroup:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ SI, R8
	MOVQ DX, R9
pp1:
	VMOVUPS (R8), Z2
	VSUBPS Z2, Z2, Z5
	VPORD Z5, Z28, Z28
	VADDPS Z2, Z1, Z1
	VPANDD Z20, Z2, Z2
	VMAXPS Z2, Z0, Z0
	ADDQ $64, R8
	DECQ R9
	JNZ pp1
	VDIVPS Z21, Z0, Z3
	VDIVPS Z0, Z21, Z4
	VCMPPS $14, Z27, Z0, K1
	VBLENDMPS Z4, Z27, K1, Z4
	VMOVUPS Z3, (AX)
	VMOVUPS Z1, 64(AX)
	ADDQ $128, AX
	MOVQ DX, R9
	SHRQ $1, R9
pp2:
	VMOVUPS (SI), Z6
	VMOVUPS 64(SI), Z7
	VMULPS Z4, Z6, Z6
	VMULPS Z4, Z7, Z7
	VPANDD Z23, Z6, Z8
	VPORD Z22, Z8, Z8
	VADDPS Z8, Z6, Z6
	VPANDD Z23, Z7, Z9
	VPORD Z22, Z9, Z9
	VADDPS Z9, Z7, Z7
	VCVTTPS2DQ Z6, Z6
	VCVTTPS2DQ Z7, Z7
	VPMAXSD Z25, Z6, Z6
	VPMINSD Z24, Z6, Z6
	VPMAXSD Z25, Z7, Z7
	VPMINSD Z24, Z7, Z7
	VPANDD Z26, Z6, Z6
	VPSLLD $16, Z7, Z7
	VPORD Z7, Z6, Z6
	VMOVDQU32 Z6, (DI)
	ADDQ $128, SI
	ADDQ $64, DI
	DECQ R9
	JNZ pp2
	DECQ CX
	JNZ ppgroup
ppdone:
	VPTESTMD Z28, Z28, K2
	KORTESTW K2, K2
	SETEQ ok+40(FP)
	VZEROUPPER
	RET
