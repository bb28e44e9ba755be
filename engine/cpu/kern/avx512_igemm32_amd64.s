//go:build goexperiment.simd && amd64

#include "textflag.h"

// Packed prefill with int16 inputs over two panels (igemm.go,
// avx512_igemm32.go): a tile of 12 weight rows × 32 tokens. Per column
// pair: two loads of 16 tokens' int16 pairs (one per panel), 12
// VPBROADCASTD of the rows' two codes into registers, each used by two
// VPDPWSSD: 14 loads for 24 VPDPWSSD, where igemm12x16 issues 13 loads (12
// of them embedded broadcasts) for 12. The 24 int32 accumulators (row r:
// panel 0 in Zr, panel 1 in Z(12+r)) fill 24 registers, so the float
// accumulators live in c (a 12×32 tile of floats, 1.5 KiB, in L1) and each
// group's epilogue reads, updates and stores them:
//
//	u = float32(Σq·xq)·dx;  y = fma(u, s, y);  y = fma(Σx, b, y)
//
// the same operations in the same order per row and token as igemm12x16,
// from zero (first) or from c, hence the same bits.
// Registers: weight rows 0-2 at (R8), (R8)(DX*1), (R8)(DX*2), rows 3-5 from
// R9, 6-8 from R10, 9-11 from R11 (DX = ldw·2 bytes); CX walks panel 0's
// pairs, panel 1's are R12 bytes further; AX walks panel 0's per-group dx
// and Σx, panel 1's xms·4 bytes further; SI the tile's per-group scales (12)
// and biases (12); R13 counts groups, R14 column pairs (then walks c in
// the epilogue); DI is c, BX ldc·4. Loop: tokens Z24 (panel 0) and Z25
// (panel 1), broadcast codes rotate through Z26-Z31. Epilogue: dx Z24, Z25,
// Σx Z26, Z27, the floats of c through Z28-Z31.

#define D2(wo, zb, za, zc) \
	VPBROADCASTD wo, zb; \
	VPDPWSSD zb, Z24, za; \
	VPDPWSSD zb, Z25, zc

// PAIR24 is one column pair: tokens at xo(CX) and xo(CX)(R12*1), codes at
// wo of each row.
#define PAIR24(xo, wo) \
	VMOVDQU32 xo(CX), Z24; \
	VMOVDQU32 xo(CX)(R12*1), Z25; \
	D2(wo(R8), Z26, Z0, Z12); \
	D2(wo(R8)(DX*1), Z27, Z1, Z13); \
	D2(wo(R8)(DX*2), Z28, Z2, Z14); \
	D2(wo(R9), Z29, Z3, Z15); \
	D2(wo(R9)(DX*1), Z30, Z4, Z16); \
	D2(wo(R9)(DX*2), Z31, Z5, Z17); \
	D2(wo(R10), Z26, Z6, Z18); \
	D2(wo(R10)(DX*1), Z27, Z7, Z19); \
	D2(wo(R10)(DX*2), Z28, Z8, Z20); \
	D2(wo(R11), Z29, Z9, Z21); \
	D2(wo(R11)(DX*1), Z30, Z10, Z22); \
	D2(wo(R11)(DX*2), Z31, Z11, Z23)

// EPI2 ends a group for one row: int32 sums za (panel 0) and zc (panel
// 1), their floats at c0 and c1 (c row, through R14 and BX), scale at so(SI), bias
// at bo(SI); zt, zu: temporaries.
#define EPI2(za, zc, c0, c1, so, bo, zt, zu) \
	VCVTDQ2PS za, za; \
	VCVTDQ2PS zc, zc; \
	VMOVUPS c0, zt; \
	VMOVUPS c1, zu; \
	VMULPS Z24, za, za; \
	VMULPS Z25, zc, zc; \
	VFMADD231PS.BCST so(SI), za, zt; \
	VFMADD231PS.BCST so(SI), zc, zu; \
	VFMADD231PS.BCST bo(SI), Z26, zt; \
	VFMADD231PS.BCST bo(SI), Z27, zu; \
	VMOVUPS zt, c0; \
	VMOVUPS zu, c1

#define ZERO24 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23

// func igemm12x32(c *float32, ldc int, w *int16, ldw int, sb *float32, xp *int16, xps int, xm *float32, xms int, groups, gs int, first bool)
// xps: int16 values from panel 0's tokens to panel 1's; xms: floats from
// panel 0's dx and Σx to panel 1's.
TEXT ·igemm12x32(SB), NOSPLIT, $0-89
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	MOVBLZX first+88(FP), SI
	TESTQ SI, SI
	JZ i32setup
	// first: the float accumulators start from zero.
	VPXORD Z28, Z28, Z28
	MOVQ DI, R14
	MOVQ $4, R13
i32clear:
	VMOVUPS Z28, (R14)
	VMOVUPS Z28, 64(R14)
	VMOVUPS Z28, (R14)(BX*1)
	VMOVUPS Z28, 64(R14)(BX*1)
	VMOVUPS Z28, (R14)(BX*2)
	VMOVUPS Z28, 64(R14)(BX*2)
	LEAQ (R14)(BX*2), R14
	ADDQ BX, R14
	DECQ R13
	JNZ i32clear
i32setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $1, DX
	LEAQ (DX)(DX*2), R13
	LEAQ (R8)(R13*1), R9
	LEAQ (R9)(R13*1), R10
	LEAQ (R10)(R13*1), R11
	MOVQ sb+32(FP), SI
	MOVQ xp+40(FP), CX
	MOVQ xps+48(FP), R12
	SHLQ $1, R12
	MOVQ xm+56(FP), AX
	MOVQ groups+72(FP), R13
	TESTQ R13, R13
	JZ i32done
i32group:
	ZERO24
	MOVQ gs+80(FP), R14
	SHRQ $3, R14
i32pairs:
	PAIR24(0, 0)
	PAIR24(64, 4)
	PAIR24(128, 8)
	PAIR24(192, 12)
	ADDQ $256, CX
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	DECQ R14
	JNZ i32pairs
	MOVQ xms+64(FP), R14
	VMOVUPS (AX), Z24
	VMOVUPS (AX)(R14*4), Z25
	VMOVUPS 64(AX), Z26
	VMOVUPS 64(AX)(R14*4), Z27
	MOVQ DI, R14
	EPI2(Z0, Z12, (R14), 64(R14), 0, 48, Z28, Z29)
	EPI2(Z1, Z13, (R14)(BX*1), 64(R14)(BX*1), 4, 52, Z30, Z31)
	EPI2(Z2, Z14, (R14)(BX*2), 64(R14)(BX*2), 8, 56, Z28, Z29)
	LEAQ (R14)(BX*2), R14
	ADDQ BX, R14
	EPI2(Z3, Z15, (R14), 64(R14), 12, 60, Z30, Z31)
	EPI2(Z4, Z16, (R14)(BX*1), 64(R14)(BX*1), 16, 64, Z28, Z29)
	EPI2(Z5, Z17, (R14)(BX*2), 64(R14)(BX*2), 20, 68, Z30, Z31)
	LEAQ (R14)(BX*2), R14
	ADDQ BX, R14
	EPI2(Z6, Z18, (R14), 64(R14), 24, 72, Z28, Z29)
	EPI2(Z7, Z19, (R14)(BX*1), 64(R14)(BX*1), 28, 76, Z30, Z31)
	EPI2(Z8, Z20, (R14)(BX*2), 64(R14)(BX*2), 32, 80, Z28, Z29)
	LEAQ (R14)(BX*2), R14
	ADDQ BX, R14
	EPI2(Z9, Z21, (R14), 64(R14), 36, 84, Z30, Z31)
	EPI2(Z10, Z22, (R14)(BX*1), 64(R14)(BX*1), 40, 88, Z28, Z29)
	EPI2(Z11, Z23, (R14)(BX*2), 64(R14)(BX*2), 44, 92, Z30, Z31)
	ADDQ $128, AX
	ADDQ $96, SI
	DECQ R13
	JNZ i32group
i32done:
	VZEROUPPER
	RET
