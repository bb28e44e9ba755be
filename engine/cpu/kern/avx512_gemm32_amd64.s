//go:build goexperiment.simd && amd64

#include "textflag.h"

// Packed prefill on AVX-512 (gemm.go, avx512_gemm32.go): a tile of 12
// weight rows × 32 tokens (two panels) in 24 zmm accumulators. Per column:
// two loads of 16 packed tokens (one per panel), 12 VBROADCASTSS of the
// rows' weights into registers, each used by two VFMADD231PS: 14 loads for
// 24 FMAs, where gemm12x16 issues 13 loads (12 of them broadcasting) for 12.
// A micro-tile's weights are thus read from the cache once per two panels.
// Each accumulator still gets one FMA per column in column order, from zero
// or from c, so a product is the same bits as through gemm12x16.
// Registers: weight rows 0-2 at (R8), (R8)(DX*1), (R8)(DX*2), rows 3-5 from
// R9, 6-8 from R10, 9-11 from R11; row r accumulates panel 0 in Zr and
// panel 1 in Z(12+r); the tokens of a column are Z24 (panel 0, at CX) and
// Z25 (panel 1, at CX+R12); broadcast weights rotate through Z26-Z31. Four
// columns per pass; each pass prefetches two lines at R14, walking 32·kc
// bytes from pf (the micro-tile's share of the next two panels).

#define W2(wo, zb, za, zc) \
	VBROADCASTSS wo, zb; \
	VFMADD231PS zb, Z24, za; \
	VFMADD231PS zb, Z25, zc

#define COL24(xo, wo) \
	VMOVUPS xo(CX), Z24; \
	VMOVUPS xo(CX)(R12*1), Z25; \
	W2(wo(R8), Z26, Z0, Z12); \
	W2(wo(R8)(DX*1), Z27, Z1, Z13); \
	W2(wo(R8)(DX*2), Z28, Z2, Z14); \
	W2(wo(R9), Z29, Z3, Z15); \
	W2(wo(R9)(DX*1), Z30, Z4, Z16); \
	W2(wo(R9)(DX*2), Z31, Z5, Z17); \
	W2(wo(R10), Z26, Z6, Z18); \
	W2(wo(R10)(DX*1), Z27, Z7, Z19); \
	W2(wo(R10)(DX*2), Z28, Z8, Z20); \
	W2(wo(R11), Z29, Z9, Z21); \
	W2(wo(R11)(DX*1), Z30, Z10, Z22); \
	W2(wo(R11)(DX*2), Z31, Z11, Z23)


// func gemm12x32(c *float32, ldc int, w *float32, ldw int, xp *float32, xps int, kc int, first bool, pf *float32)
// xps: floats from panel 0's tokens to panel 1's.
TEXT ·gemm12x32(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R12
	MOVBLZX first+56(FP), SI
	TESTQ SI, SI
	JNZ g32zero
	MOVQ DI, R8
	VMOVUPS (R8), Z0
	VMOVUPS 64(R8), Z12
	VMOVUPS (R8)(BX*1), Z1
	VMOVUPS 64(R8)(BX*1), Z13
	VMOVUPS (R8)(BX*2), Z2
	VMOVUPS 64(R8)(BX*2), Z14
	ADDQ R12, R8
	VMOVUPS (R8), Z3
	VMOVUPS 64(R8), Z15
	VMOVUPS (R8)(BX*1), Z4
	VMOVUPS 64(R8)(BX*1), Z16
	VMOVUPS (R8)(BX*2), Z5
	VMOVUPS 64(R8)(BX*2), Z17
	ADDQ R12, R8
	VMOVUPS (R8), Z6
	VMOVUPS 64(R8), Z18
	VMOVUPS (R8)(BX*1), Z7
	VMOVUPS 64(R8)(BX*1), Z19
	VMOVUPS (R8)(BX*2), Z8
	VMOVUPS 64(R8)(BX*2), Z20
	ADDQ R12, R8
	VMOVUPS (R8), Z9
	VMOVUPS 64(R8), Z21
	VMOVUPS (R8)(BX*1), Z10
	VMOVUPS 64(R8)(BX*1), Z22
	VMOVUPS (R8)(BX*2), Z11
	VMOVUPS 64(R8)(BX*2), Z23
	JMP g32setup
g32zero:
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
g32setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R13
	LEAQ (R8)(R13*1), R9
	LEAQ (R9)(R13*1), R10
	LEAQ (R10)(R13*1), R11
	MOVQ xp+32(FP), CX
	MOVQ xps+40(FP), R12
	SHLQ $2, R12
	MOVQ pf+64(FP), R14
	MOVQ kc+48(FP), AX
	MOVQ AX, SI
	SHRQ $2, SI
	JZ g32tail
g32loop4:
	PREFETCHT0 (R14)
	PREFETCHT0 64(R14)
	COL24(0, 0)
	COL24(64, 4)
	COL24(128, 8)
	COL24(192, 12)
	ADDQ $256, CX
	ADDQ $128, R14
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	DECQ SI
	JNZ g32loop4
g32tail:
	ANDQ $3, AX
	JZ g32done
g32loop1:
	COL24(0, 0)
	ADDQ $64, CX
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ AX
	JNZ g32loop1
g32done:
	LEAQ (BX)(BX*2), R12
	MOVQ DI, R8
	VMOVUPS Z0, (R8)
	VMOVUPS Z12, 64(R8)
	VMOVUPS Z1, (R8)(BX*1)
	VMOVUPS Z13, 64(R8)(BX*1)
	VMOVUPS Z2, (R8)(BX*2)
	VMOVUPS Z14, 64(R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z3, (R8)
	VMOVUPS Z15, 64(R8)
	VMOVUPS Z4, (R8)(BX*1)
	VMOVUPS Z16, 64(R8)(BX*1)
	VMOVUPS Z5, (R8)(BX*2)
	VMOVUPS Z17, 64(R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z6, (R8)
	VMOVUPS Z18, 64(R8)
	VMOVUPS Z7, (R8)(BX*1)
	VMOVUPS Z19, 64(R8)(BX*1)
	VMOVUPS Z8, (R8)(BX*2)
	VMOVUPS Z20, 64(R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z9, (R8)
	VMOVUPS Z21, 64(R8)
	VMOVUPS Z10, (R8)(BX*1)
	VMOVUPS Z22, 64(R8)(BX*1)
	VMOVUPS Z11, (R8)(BX*2)
	VMOVUPS Z23, 64(R8)(BX*2)
	VZEROUPPER
	RET
