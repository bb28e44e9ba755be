//go:build goexperiment.simd && amd64

#include "textflag.h"

// Packed prefill micro-kernels (gemm.go): a tile of 6 weight rows × 16 (or
// 8) tokens in 12 (or 6) ymm accumulators. Per column: one or two loads of
// packed tokens, six broadcast weights, 12 (6) VFMADD231PS. The accumulate
// form of the FMA is why these are in assembly: archsimd only has the
// VFMADD213 form, which overwrites a multiplicand, so every FMA also needs
// a register copy and a 6×16 tile no longer fits in 16 ymm registers.
// Registers: weight row r is broadcast from (R8+r·ldw)(SI), its
// accumulators are Y(2r), Y(2r+1) (16 tokens) or Y(r) (8 tokens); the
// tokens of column k are Y12 (and Y13), CX walks the packed panel.

// func gemm6x16(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool)
TEXT ·gemm6x16(SB), NOSPLIT, $0-49
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	MOVBLZX first+48(FP), SI
	TESTQ SI, SI
	JNZ gemm6x16zero
	MOVQ DI, R8
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	ADDQ BX, R8
	VMOVUPS (R8), Y2
	VMOVUPS 32(R8), Y3
	ADDQ BX, R8
	VMOVUPS (R8), Y4
	VMOVUPS 32(R8), Y5
	ADDQ BX, R8
	VMOVUPS (R8), Y6
	VMOVUPS 32(R8), Y7
	ADDQ BX, R8
	VMOVUPS (R8), Y8
	VMOVUPS 32(R8), Y9
	ADDQ BX, R8
	VMOVUPS (R8), Y10
	VMOVUPS 32(R8), Y11
	JMP gemm6x16setup
gemm6x16zero:
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
gemm6x16setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $2, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	LEAQ (R11)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	MOVQ xp+32(FP), CX
	MOVQ kc+40(FP), AX
	SHLQ $2, AX
	XORQ SI, SI
	TESTQ AX, AX
	JZ gemm6x16done
gemm6x16loop:
	VMOVUPS (CX), Y12
	VMOVUPS 32(CX), Y13
	VBROADCASTSS (R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $64, CX
	ADDQ $4, SI
	CMPQ SI, AX
	JLT gemm6x16loop
gemm6x16done:
	MOVQ DI, R8
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, 32(R8)
	ADDQ BX, R8
	VMOVUPS Y2, (R8)
	VMOVUPS Y3, 32(R8)
	ADDQ BX, R8
	VMOVUPS Y4, (R8)
	VMOVUPS Y5, 32(R8)
	ADDQ BX, R8
	VMOVUPS Y6, (R8)
	VMOVUPS Y7, 32(R8)
	ADDQ BX, R8
	VMOVUPS Y8, (R8)
	VMOVUPS Y9, 32(R8)
	ADDQ BX, R8
	VMOVUPS Y10, (R8)
	VMOVUPS Y11, 32(R8)
	VZEROUPPER
	RET

// func gemm6x8(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool)
TEXT ·gemm6x8(SB), NOSPLIT, $0-49
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX
	MOVBLZX first+48(FP), SI
	TESTQ SI, SI
	JNZ gemm6x8zero
	MOVQ DI, R8
	VMOVUPS (R8), Y0
	ADDQ BX, R8
	VMOVUPS (R8), Y1
	ADDQ BX, R8
	VMOVUPS (R8), Y2
	ADDQ BX, R8
	VMOVUPS (R8), Y3
	ADDQ BX, R8
	VMOVUPS (R8), Y4
	ADDQ BX, R8
	VMOVUPS (R8), Y5
	JMP gemm6x8setup
gemm6x8zero:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
gemm6x8setup:
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), DX
	SHLQ $2, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	LEAQ (R11)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	MOVQ xp+32(FP), CX
	MOVQ kc+40(FP), AX
	SHLQ $2, AX
	XORQ SI, SI
	TESTQ AX, AX
	JZ gemm6x8done
gemm6x8loop:
	VMOVUPS (CX), Y12
	VBROADCASTSS (R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VBROADCASTSS (R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y1
	VBROADCASTSS (R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VBROADCASTSS (R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VBROADCASTSS (R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VBROADCASTSS (R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y5
	ADDQ $64, CX
	ADDQ $4, SI
	CMPQ SI, AX
	JLT gemm6x8loop
gemm6x8done:
	MOVQ DI, R8
	VMOVUPS Y0, (R8)
	ADDQ BX, R8
	VMOVUPS Y1, (R8)
	ADDQ BX, R8
	VMOVUPS Y2, (R8)
	ADDQ BX, R8
	VMOVUPS Y3, (R8)
	ADDQ BX, R8
	VMOVUPS Y4, (R8)
	ADDQ BX, R8
	VMOVUPS Y5, (R8)
	VZEROUPPER
	RET

// Dequantizing MLX affine codes for the packed prefill: a float32 tile is
// filled from the codes once per block and reused for every token, so this
// runs once per weight per call rather than once per token.

// func q8Deq(dst *float32, q *byte, sb *float32, groups, units int)
// dst[i] = s·q[i] + b for groups of 32·units codes, (s, b) pairs in sb.
TEXT ·q8Deq(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ sb+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ units+32(FP), R8
q8dgroup:
	TESTQ BX, BX
	JZ    q8ddone
	VBROADCASTSS (DX), Y8
	VBROADCASTSS 4(DX), Y9
	MOVQ  R8, CX
q8dunit:
	VPMOVZXBD (SI), Y4
	VPMOVZXBD 8(SI), Y5
	VPMOVZXBD 16(SI), Y6
	VPMOVZXBD 24(SI), Y7
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VFMADD213PS Y9, Y8, Y4
	VFMADD213PS Y9, Y8, Y5
	VFMADD213PS Y9, Y8, Y6
	VFMADD213PS Y9, Y8, Y7
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  q8dunit
	ADDQ $8, DX
	DECQ BX
	JMP  q8dgroup
q8ddone:
	VZEROUPPER
	RET

// Q4DEQ16 expands the 16 nibbles widened into src (8 dwords, low nibble =
// even column) to 16 floats at off(DI): split into low and high nibbles,
// interleave them back into column order, convert, s·q + b.
#define Q4DEQ16(src, off, off2) \
	VPAND      Y10, src, Y6; \
	VPSRLD     $4, src, Y7; \
	VPUNPCKLDQ Y7, Y6, Y11; \
	VPUNPCKHDQ Y7, Y6, Y12; \
	VPERM2I128 $0x20, Y12, Y11, Y13; \
	VPERM2I128 $0x31, Y12, Y11, Y14; \
	VCVTDQ2PS  Y13, Y13; \
	VCVTDQ2PS  Y14, Y14; \
	VFMADD213PS Y9, Y8, Y13; \
	VFMADD213PS Y9, Y8, Y14; \
	VMOVUPS    Y13, off(DI); \
	VMOVUPS    Y14, off2(DI)

// func q4Deq(dst *float32, q *byte, sb *float32, groups, units int)
// is q8Deq for nibbles: 32 codes are 16 bytes.
TEXT ·q4Deq(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ sb+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ units+32(FP), R8
	VPBROADCASTD nibble<>(SB), Y10
q4dgroup:
	TESTQ BX, BX
	JZ    q4ddone
	VBROADCASTSS (DX), Y8
	VBROADCASTSS 4(DX), Y9
	MOVQ  R8, CX
q4dunit:
	VPMOVZXBD (SI), Y4
	VPMOVZXBD 8(SI), Y5
	Q4DEQ16(Y4, 0, 32)
	Q4DEQ16(Y5, 64, 96)
	ADDQ $16, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  q4dunit
	ADDQ $8, DX
	DECQ BX
	JMP  q4dgroup
q4ddone:
	VZEROUPPER
	RET

DATA nibble<>+0(SB)/4, $15
GLOBL nibble<>(SB), RODATA|NOPTR, $4
