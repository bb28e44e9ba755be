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
// The loop runs four columns per pass and prefetches one line at R14 per
// pass, walking 8·kc bytes from pf: the caller's share of the panel that
// comes next, which is otherwise read from L3 (a prompt's packed tokens
// outgrow L2) with the FMAs waiting on it: +10% on Zen 1.

// func gemm6x16(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool, pf *float32)
TEXT ·gemm6x16(SB), NOSPLIT, $0-64
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
	MOVQ pf+56(FP), R14
	MOVQ kc+40(FP), AX
	SHLQ $2, AX
	XORQ SI, SI
	MOVQ AX, DX
	ANDQ $-16, DX
	JZ gemm6x16tail
gemm6x16loop4:
	PREFETCHT0 (R14)
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
	VMOVUPS 64(CX), Y12
	VMOVUPS 96(CX), Y13
	VBROADCASTSS 4(R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 4(R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 4(R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 4(R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 4(R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	VMOVUPS 128(CX), Y12
	VMOVUPS 160(CX), Y13
	VBROADCASTSS 8(R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 8(R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 8(R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 8(R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 8(R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 8(R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	VMOVUPS 192(CX), Y12
	VMOVUPS 224(CX), Y13
	VBROADCASTSS 12(R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 12(R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 12(R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 12(R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 12(R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $256, CX
	ADDQ $32, R14
	ADDQ $16, SI
	CMPQ SI, DX
	JLT gemm6x16loop4
gemm6x16tail:
	CMPQ SI, AX
	JGE gemm6x16done
gemm6x16loop1:
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
	JLT gemm6x16loop1
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


// func gemm6x8(c *float32, ldc int, w *float32, ldw int, xp *float32, kc int, first bool, pf *float32)
TEXT ·gemm6x8(SB), NOSPLIT, $0-64
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
	MOVQ pf+56(FP), R14
	MOVQ kc+40(FP), AX
	SHLQ $2, AX
	XORQ SI, SI
	MOVQ AX, DX
	ANDQ $-16, DX
	JZ gemm6x8tail
gemm6x8loop4:
	PREFETCHT0 (R14)
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
	VMOVUPS 64(CX), Y12
	VBROADCASTSS 4(R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VBROADCASTSS 4(R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y1
	VBROADCASTSS 4(R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VBROADCASTSS 4(R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VBROADCASTSS 4(R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VBROADCASTSS 4(R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y5
	VMOVUPS 128(CX), Y12
	VBROADCASTSS 8(R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VBROADCASTSS 8(R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y1
	VBROADCASTSS 8(R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VBROADCASTSS 8(R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VBROADCASTSS 8(R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VBROADCASTSS 8(R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y5
	VMOVUPS 192(CX), Y12
	VBROADCASTSS 12(R8)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VBROADCASTSS 12(R9)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y1
	VBROADCASTSS 12(R10)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VBROADCASTSS 12(R11)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VBROADCASTSS 12(R12)(SI*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VBROADCASTSS 12(R13)(SI*1), Y15
	VFMADD231PS Y12, Y15, Y5
	ADDQ $256, CX
	ADDQ $32, R14
	ADDQ $16, SI
	CMPQ SI, DX
	JLT gemm6x8loop4
gemm6x8tail:
	CMPQ SI, AX
	JGE gemm6x8done
gemm6x8loop1:
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
	JLT gemm6x8loop1
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

// TILE6x8T stores the 8 tokens of the six rows Y0..Y5 (one token per
// lane) as 6 consecutive floats per token at DI, DI+BX, ... DI+7·BX:
// an 8×8 transpose whose rows 6 and 7 are never formed. Rows 0-3 of a
// token go out as one 16-byte store, rows 4-5 as one 8-byte store.
#define TILE6x8T \
	VUNPCKLPS Y1, Y0, Y6; \
	VUNPCKHPS Y1, Y0, Y7; \
	VUNPCKLPS Y3, Y2, Y8; \
	VUNPCKHPS Y3, Y2, Y9; \
	VUNPCKLPS Y5, Y4, Y10; \
	VUNPCKHPS Y5, Y4, Y11; \
	VSHUFPS $0x44, Y8, Y6, Y0; \
	VSHUFPS $0xEE, Y8, Y6, Y1; \
	VSHUFPS $0x44, Y9, Y7, Y2; \
	VSHUFPS $0xEE, Y9, Y7, Y3; \
	MOVQ DI, R9; \
	VMOVUPS X0, (R9); \
	VMOVLPS X10, 16(R9); \
	ADDQ BX, R9; \
	VMOVUPS X1, (R9); \
	VMOVHPS X10, 16(R9); \
	ADDQ BX, R9; \
	VMOVUPS X2, (R9); \
	VMOVLPS X11, 16(R9); \
	ADDQ BX, R9; \
	VMOVUPS X3, (R9); \
	VMOVHPS X11, 16(R9); \
	ADDQ BX, R9; \
	VEXTRACTF128 $1, Y0, X0; \
	VEXTRACTF128 $1, Y1, X1; \
	VEXTRACTF128 $1, Y2, X2; \
	VEXTRACTF128 $1, Y3, X3; \
	VEXTRACTF128 $1, Y10, X10; \
	VEXTRACTF128 $1, Y11, X11; \
	VMOVUPS X0, (R9); \
	VMOVLPS X10, 16(R9); \
	ADDQ BX, R9; \
	VMOVUPS X1, (R9); \
	VMOVHPS X10, 16(R9); \
	ADDQ BX, R9; \
	VMOVUPS X2, (R9); \
	VMOVLPS X11, 16(R9); \
	ADDQ BX, R9; \
	VMOVUPS X3, (R9); \
	VMOVHPS X11, 16(R9)

// TILE6LOAD loads tokens off..off+7 of the six rows of c at SI (row
// stride DX) into Y0..Y5.
#define TILE6LOAD(off) \
	MOVQ SI, R8; \
	VMOVUPS off(R8), Y0; \
	ADDQ DX, R8; \
	VMOVUPS off(R8), Y1; \
	ADDQ DX, R8; \
	VMOVUPS off(R8), Y2; \
	ADDQ DX, R8; \
	VMOVUPS off(R8), Y3; \
	ADDQ DX, R8; \
	VMOVUPS off(R8), Y4; \
	ADDQ DX, R8; \
	VMOVUPS off(R8), Y5

// func tile6x16T(y *float32, ldy int, c *float32, ldc int)
// y[t*ldy+r] = c[r*ldc+t] for r < 6, t < 16: a finished 6×16 tile of
// the packed prefill, straight from the micro-kernel's just-stored (L1)
// accumulators into the tokens' rows of the output.
TEXT ·tile6x16T(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ ldy+8(FP), BX
	SHLQ $2, BX
	MOVQ c+16(FP), SI
	MOVQ ldc+24(FP), DX
	SHLQ $2, DX
	TILE6LOAD(0)
	TILE6x8T
	LEAQ (BX)(BX*1), R9
	LEAQ (R9)(R9*1), R9
	LEAQ (DI)(R9*2), DI
	TILE6LOAD(32)
	TILE6x8T
	VZEROUPPER
	RET

// func prefetchRows(p *byte, stride, rows, lines int)
// Prefetches lines cache lines from each of rows rows stride bytes apart
// from p: a hint, never a read, so it may run past the matrix.
TEXT ·prefetchRows(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), DI
	MOVQ stride+8(FP), BX
	MOVQ rows+16(FP), CX
	MOVQ lines+24(FP), DX
	TESTQ CX, CX
	JLE  pfrdone
	TESTQ DX, DX
	JLE  pfrdone
pfrrow:
	MOVQ DI, SI
	MOVQ DX, AX
pfrline:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	DECQ AX
	JNZ  pfrline
	ADDQ BX, DI
	DECQ CX
	JNZ  pfrrow
pfrdone:
	RET

// T8x8 transposes Y0..Y7 (8 tokens × 8 columns) into Y0..Y7 (8 columns ×
// 8 tokens) through Y8..Y15.
#define T8x8 \
	VUNPCKLPS Y1, Y0, Y8; \
	VUNPCKHPS Y1, Y0, Y9; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKHPS Y3, Y2, Y11; \
	VUNPCKLPS Y5, Y4, Y12; \
	VUNPCKHPS Y5, Y4, Y13; \
	VUNPCKLPS Y7, Y6, Y14; \
	VUNPCKHPS Y7, Y6, Y15; \
	VSHUFPS $0x44, Y10, Y8, Y0; \
	VSHUFPS $0xEE, Y10, Y8, Y1; \
	VSHUFPS $0x44, Y11, Y9, Y2; \
	VSHUFPS $0xEE, Y11, Y9, Y3; \
	VSHUFPS $0x44, Y14, Y12, Y4; \
	VSHUFPS $0xEE, Y14, Y12, Y5; \
	VSHUFPS $0x44, Y15, Y13, Y6; \
	VSHUFPS $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// PACK8 packs columns AX.. (bytes) of the 8 token rows from R8 (row
// stride BX) as 8 columns of tokens at off(DI) (column stride 64 bytes).
#define PACK8(off) \
	MOVQ R8, R9; \
	VMOVUPS (R9)(AX*1), Y0; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y1; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y2; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y3; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y4; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y5; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y6; \
	ADDQ BX, R9; \
	VMOVUPS (R9)(AX*1), Y7; \
	T8x8; \
	VMOVUPS Y8, off(DI); \
	VMOVUPS Y9, off+64(DI); \
	VMOVUPS Y10, off+128(DI); \
	VMOVUPS Y11, off+192(DI); \
	VMOVUPS Y12, off+256(DI); \
	VMOVUPS Y13, off+320(DI); \
	VMOVUPS Y14, off+384(DI); \
	VMOVUPS Y15, off+448(DI)

// func packPanel16(dst *float32, x *float32, ldx, cols int)
// dst[k*16+j] = x[j*ldx+k] for j < 16, k < cols (a multiple of 8): a full
// panel of tokens for the packed prefill, 8×8 blocks transposed in
// registers.
TEXT ·packPanel16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ ldx+16(FP), BX
	SHLQ $2, BX
	MOVQ cols+24(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(BX*8), R10 // tokens 8..15
	XORQ AX, AX
pp16loop:
	CMPQ AX, DX
	JGE  pp16done
	MOVQ SI, R8
	PACK8(0)
	MOVQ R10, R8
	PACK8(32)
	ADDQ $32, AX
	ADDQ $512, DI
	JMP  pp16loop
pp16done:
	VZEROUPPER
	RET
