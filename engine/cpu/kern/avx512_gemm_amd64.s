//go:build goexperiment.simd && amd64

#include "textflag.h"

// Packed prefill on AVX-512 (gemm.go): a tile of 12 weight rows × 16 tokens
// in 12 zmm accumulators. Per column: one load of the 16 packed tokens and
// 12 VFMADD231PS whose weight is broadcast from memory by the FMA itself
// ({1to16}), so no register holds a broadcast weight and a column costs 13
// instructions for 12 FMAs. Twelve accumulators are what two FMA pipes of
// 4 cycles' latency need (8) with room for a load's jitter; each
// accumulator gets one FMA per column in the order of the columns, as in
// the AVX2 kernel, so a product is the same bits in both sets.
// Registers: weight rows 0-2 are at (R8), (R8)(DX*1), (R8)(DX*2), rows 3-5
// from R9, 6-8 from R10, 9-11 from R11 (each 3 rows further: R12 = 3·ldw
// bytes); row r accumulates in Zr; the tokens of a column are Z12 or Z13;
// CX walks the packed panel. Four columns per pass; each pass prefetches
// one line at R14, walking 16·kc bytes from pf: the micro-tile's share
// (kc·12/3 floats, gemm.go's step) of the panel that comes next.

// COL12 is one column: tokens at xo(CX) into zr, weights at wo from each row.
#define COL12(xo, wo, zr) \
	VMOVUPS xo(CX), zr; \
	VFMADD231PS.BCST wo(R8), zr, Z0; \
	VFMADD231PS.BCST wo(R8)(DX*1), zr, Z1; \
	VFMADD231PS.BCST wo(R8)(DX*2), zr, Z2; \
	VFMADD231PS.BCST wo(R9), zr, Z3; \
	VFMADD231PS.BCST wo(R9)(DX*1), zr, Z4; \
	VFMADD231PS.BCST wo(R9)(DX*2), zr, Z5; \
	VFMADD231PS.BCST wo(R10), zr, Z6; \
	VFMADD231PS.BCST wo(R10)(DX*1), zr, Z7; \
	VFMADD231PS.BCST wo(R10)(DX*2), zr, Z8; \
	VFMADD231PS.BCST wo(R11), zr, Z9; \
	VFMADD231PS.BCST wo(R11)(DX*1), zr, Z10; \
	VFMADD231PS.BCST wo(R11)(DX*2), zr, Z11

// func gemm12x16(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool, pf *float32)
TEXT ·gemm12x16(SB), NOSPLIT, $0-64
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R12
	MOVBLZX first+48(FP), SI
	TESTQ SI, SI
	JNZ g12zero
	MOVQ DI, R8
	VMOVUPS (R8), Z0
	VMOVUPS (R8)(BX*1), Z1
	VMOVUPS (R8)(BX*2), Z2
	ADDQ R12, R8
	VMOVUPS (R8), Z3
	VMOVUPS (R8)(BX*1), Z4
	VMOVUPS (R8)(BX*2), Z5
	ADDQ R12, R8
	VMOVUPS (R8), Z6
	VMOVUPS (R8)(BX*1), Z7
	VMOVUPS (R8)(BX*2), Z8
	ADDQ R12, R8
	VMOVUPS (R8), Z9
	VMOVUPS (R8)(BX*1), Z10
	VMOVUPS (R8)(BX*2), Z11
	JMP g12setup
g12zero:
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
g12setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R13
	LEAQ (R8)(R13*1), R9
	LEAQ (R9)(R13*1), R10
	LEAQ (R10)(R13*1), R11
	MOVQ xp+32(FP), CX
	MOVQ pf+56(FP), R14
	MOVQ kc+40(FP), AX
	MOVQ AX, SI
	SHRQ $2, SI
	JZ g12tail
g12loop4:
	PREFETCHT0 (R14)
	COL12(0, 0, Z12)
	COL12(64, 4, Z13)
	COL12(128, 8, Z12)
	COL12(192, 12, Z13)
	ADDQ $256, CX
	ADDQ $64, R14
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	DECQ SI
	JNZ g12loop4
g12tail:
	ANDQ $3, AX
	JZ g12done
g12loop1:
	COL12(0, 0, Z12)
	ADDQ $64, CX
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ AX
	JNZ g12loop1
g12done:
	MOVQ DI, R8
	VMOVUPS Z0, (R8)
	VMOVUPS Z1, (R8)(BX*1)
	VMOVUPS Z2, (R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z3, (R8)
	VMOVUPS Z4, (R8)(BX*1)
	VMOVUPS Z5, (R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z6, (R8)
	VMOVUPS Z7, (R8)(BX*1)
	VMOVUPS Z8, (R8)(BX*2)
	ADDQ R12, R8
	VMOVUPS Z9, (R8)
	VMOVUPS Z10, (R8)(BX*1)
	VMOVUPS Z11, (R8)(BX*2)
	VZEROUPPER
	RET

// Converting a block of weights for the packed prefill at 512-bit width:
// the same operations as the AVX2 versions (avx2_gemm_amd64.s), 16 lanes at
// a time, so the tile holds the same floats.

// func q8Deq16(dst *float32, q *byte, sb *float32, groups, units int)
// dst[i] = s·q[i] + b for groups of 32·units codes, (s, b) pairs in sb.
TEXT ·q8Deq16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ sb+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ units+32(FP), R8
q8zgroup:
	TESTQ BX, BX
	JZ    q8zdone
	VBROADCASTSS (DX), Z8
	VBROADCASTSS 4(DX), Z9
	MOVQ  R8, CX
q8zunit:
	VPMOVZXBD (SI), Z4
	VPMOVZXBD 16(SI), Z5
	VCVTDQ2PS Z4, Z4
	VCVTDQ2PS Z5, Z5
	VFMADD213PS Z9, Z8, Z4
	VFMADD213PS Z9, Z8, Z5
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  q8zunit
	ADDQ $8, DX
	DECQ BX
	JMP  q8zgroup
q8zdone:
	VZEROUPPER
	RET

// func q4Deq16(dst *float32, q *byte, sb *float32, groups, units int)
// is q8Deq16 for nibbles (low nibble = even column): a unit's 16 bytes
// split into low and high nibbles as bytes, interleaved back into column
// order (two byte unpacks), each half widened to 16 dwords.
TEXT ·q4Deq16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ sb+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ units+32(FP), R8
	VPBROADCASTB nib4<>(SB), X10
q4zgroup:
	TESTQ BX, BX
	JZ    q4zdone
	VBROADCASTSS (DX), Z8
	VBROADCASTSS 4(DX), Z9
	MOVQ  R8, CX
q4zunit:
	VMOVDQU (SI), X0
	VPSRLW $4, X0, X1
	VPAND X10, X0, X0
	VPAND X10, X1, X1
	VPUNPCKLBW X1, X0, X2
	VPUNPCKHBW X1, X0, X3
	VPMOVZXBD X2, Z4
	VPMOVZXBD X3, Z5
	VCVTDQ2PS Z4, Z4
	VCVTDQ2PS Z5, Z5
	VFMADD213PS Z9, Z8, Z4
	VFMADD213PS Z9, Z8, Z5
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ $16, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  q4zunit
	ADDQ $8, DX
	DECQ BX
	JMP  q4zgroup
q4zdone:
	VZEROUPPER
	RET

DATA nib4<>+0(SB)/1, $15
GLOBL nib4<>(SB), RODATA|NOPTR, $1

// func f16Widen16(dst *float32, src *uint16, n int)
// dst[i] = float32(src[i]) for i < n (a multiple of 16): VCVTPH2PS is exact
// for every half (subnormals, Inf, NaN).
TEXT ·f16Widen16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   f16zdone
f16zloop:
	VCVTPH2PS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  f16zloop
f16zdone:
	VZEROUPPER
	RET

// func bf16Widen16(dst *float32, src *uint16, n int)
// dst[i] = float32 of bfloat16 src[i] for i < n (a multiple of 16): the
// half's bits shifted into the high half of a float32.
TEXT ·bf16Widen16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   bf16zdone
bf16zloop:
	VPMOVZXWD (SI), Z0
	VPSLLD $16, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  bf16zloop
bf16zdone:
	VZEROUPPER
	RET
