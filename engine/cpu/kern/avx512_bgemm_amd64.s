//go:build goexperiment.simd && amd64

#include "textflag.h"

// BF16 prefill on AVX512_BF16 (bgemm.go): a tile of 12 weight rows × 16
// tokens in 12 zmm float32 accumulators, as gemm12x16 but on bfloat16 pairs.
// Per pair of columns: one load of the 16 tokens' pairs (64 bytes, packed by
// bf16PackPanel) and 12 VDPBF16PS whose weight pair, 4 bytes of the stored
// row, is broadcast from memory by the instruction itself ({1to16}): 13
// instructions for 12·32 multiply-adds, the weights read in place (no
// converted tile). VDPBF16PS adds a lane's odd product and then its even one
// to the accumulator, rounding each sum to float32 (products of two bfloat16
// are exact); every accumulator gets its row's pairs in column order, so a
// result depends on its row and token only, not on where they fall in a tile.
// The Go assembler has no AVX512_BF16 mnemonics: the instructions are
// BYTE-encoded (llvm-mc), each P macro being, for its pair p = 0..3,
//	VMOVUPS 64p(CX), Z12|Z13
//	VDPBF16PS.BCST 4p(row r), Z12|Z13, Zr   for r = 0..11
// with the rows at (R8), (R8)(DX*1), (R8)(DX*2), (R9), ... (R11)(DX*2) as in
// gemm12x16 (R13 = 3 rows of ldw bytes).

#define P0 \
	VMOVUPS 0(CX), Z12; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x00; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x0c; BYTE $0x10; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x14; BYTE $0x50; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x19; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x24; BYTE $0x11; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x2c; BYTE $0x51; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x32; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x3c; BYTE $0x12; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x04; BYTE $0x52; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x0b; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x14; BYTE $0x13; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x1c; BYTE $0x53

#define P1 \
	VMOVUPS 64(CX), Z13; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x40; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x4c; BYTE $0x10; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x54; BYTE $0x50; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x59; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x64; BYTE $0x11; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x6c; BYTE $0x51; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x72; BYTE $0x01; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x7c; BYTE $0x12; BYTE $0x01; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x44; BYTE $0x52; BYTE $0x01; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x4b; BYTE $0x01; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x54; BYTE $0x13; BYTE $0x01; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x5c; BYTE $0x53; BYTE $0x01

#define P2 \
	VMOVUPS 128(CX), Z12; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x40; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x4c; BYTE $0x10; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x54; BYTE $0x50; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x59; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x64; BYTE $0x11; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x6c; BYTE $0x51; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x72; BYTE $0x02; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x7c; BYTE $0x12; BYTE $0x02; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x44; BYTE $0x52; BYTE $0x02; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x4b; BYTE $0x02; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x54; BYTE $0x13; BYTE $0x02; \
	BYTE $0x62; BYTE $0x52; BYTE $0x1e; BYTE $0x58; BYTE $0x52; BYTE $0x5c; BYTE $0x53; BYTE $0x02

#define P3 \
	VMOVUPS 192(CX), Z13; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x40; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x4c; BYTE $0x10; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x54; BYTE $0x50; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x59; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x64; BYTE $0x11; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x6c; BYTE $0x51; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x72; BYTE $0x03; \
	BYTE $0x62; BYTE $0xd2; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x7c; BYTE $0x12; BYTE $0x03; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x44; BYTE $0x52; BYTE $0x03; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x4b; BYTE $0x03; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x54; BYTE $0x13; BYTE $0x03; \
	BYTE $0x62; BYTE $0x52; BYTE $0x16; BYTE $0x58; BYTE $0x52; BYTE $0x5c; BYTE $0x53; BYTE $0x03

// func bgemm12x16(c *float32, ldc int, w *uint16, ldw int, xp *uint16, kc int, first bool)
// c[r*ldc+j] (+)= Σ_k w[r*ldw+k]·xp[(k/2)*32+2j+k%2] for r < 12, j < 16,
// k < kc (even), from zero when first.
TEXT ·bgemm12x16(SB), NOSPLIT, $0-49
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R12
	MOVBLZX first+48(FP), SI
	TESTQ SI, SI
	JNZ b12zero
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
	JMP b12setup
b12zero:
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
b12setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $1, DX
	LEAQ (DX)(DX*2), R13
	LEAQ (R8)(R13*1), R9
	LEAQ (R9)(R13*1), R10
	LEAQ (R10)(R13*1), R11
	MOVQ xp+32(FP), CX
	MOVQ kc+40(FP), AX
	SHRQ $1, AX
	MOVQ AX, SI
	SHRQ $2, SI
	JZ b12tail
b12loop4:
	P0
	P1
	P2
	P3
	ADDQ $256, CX
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	DECQ SI
	JNZ b12loop4
b12tail:
	ANDQ $3, AX
	JZ b12done
b12loop1:
	P0
	ADDQ $64, CX
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ AX
	JNZ b12loop1
b12done:
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
