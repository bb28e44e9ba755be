//go:build goexperiment.simd && amd64

#include "textflag.h"

DATA halvesNibble<>+0(SB)/1, $15
GLOBL halvesNibble<>(SB), RODATA|NOPTR, $1

// VPERMB indices for two units (gs 64) of two groups in 64 bytes: word k of
// halvesIdxA is byte k (group g's unit 0), word 16+k byte 32+k (group g+1's
// unit 0); halvesIdxB the same for the units 1 (bytes 16+k and 48+k). The
// odd bytes are zeroed by the mask K1.
DATA halvesIdxA<>+0(SB)/8, $0x0003000200010000
DATA halvesIdxA<>+8(SB)/8, $0x0007000600050004
DATA halvesIdxA<>+16(SB)/8, $0x000b000a00090008
DATA halvesIdxA<>+24(SB)/8, $0x000f000e000d000c
DATA halvesIdxA<>+32(SB)/8, $0x0023002200210020
DATA halvesIdxA<>+40(SB)/8, $0x0027002600250024
DATA halvesIdxA<>+48(SB)/8, $0x002b002a00290028
DATA halvesIdxA<>+56(SB)/8, $0x002f002e002d002c
GLOBL halvesIdxA<>(SB), RODATA|NOPTR, $64
DATA halvesIdxB<>+0(SB)/8, $0x0013001200110010
DATA halvesIdxB<>+8(SB)/8, $0x0017001600150014
DATA halvesIdxB<>+16(SB)/8, $0x001b001a00190018
DATA halvesIdxB<>+24(SB)/8, $0x001f001e001d001c
DATA halvesIdxB<>+32(SB)/8, $0x0033003200310030
DATA halvesIdxB<>+40(SB)/8, $0x0037003600350034
DATA halvesIdxB<>+48(SB)/8, $0x003b003a00390038
DATA halvesIdxB<>+56(SB)/8, $0x003f003e003d003c
GLOBL halvesIdxB<>(SB), RODATA|NOPTR, $64

// rowsIntHalves is rowInt (avx2_qint_amd64.s) for 2·h rows of one or two
// units per group, 8-bit with AVX512_VNNI, 4-bit with VBMI too: row i
// together with row h+i, their steps interleaved (two float chains) and
// each xw load shared, while each half of the rows is read front to back:
// two long sequential streams, which the hardware prefetchers follow (they
// do not follow four rows a stride apart, nor two pointers half a row
// apart), for 4-bit rows helped by a software prefetch 4 KiB ahead in each
// (engine/cpu/design.md; 8-bit rows gained nothing from it).
//
// A step takes two groups g, g+1 of a row without rowsIntVNNI's fold: a
// zmm's lanes 0-7 sum group g's products exactly as rowInt's eight lanes
// do (4-bit, lane j: each unit's bytes 2j and 2j+1, both nibbles; 8-bit:
// each unit's codes 2j, 2j+1, 16+2j, 17+2j), lanes 8-15 group g+1's, so
// one conversion serves both, and the row's chain takes g's lanes, then
// g+1's, in rowInt's order; the scales, biases and the reduction are
// rowInt's: the same bits (TestRowsIntHalvesSameBits). 4-bit codes are
// widened by VPMOVZXBW (one unit: both groups' 32 bytes are adjacent) or
// by two VPERMB of the pair's 64 bytes (two units), against xw rearranged
// per pair of groups (xwPair); 8-bit codes unit by unit as in rowsIntVNNI,
// each group into its own zmm, the two folded together by two VSHUFI64X2
// and one add, against xw in its own order. A row's odd last group goes
// as in rowsIntVNNI, with xw in its own order (for 4-bit rows the end of
// xwp).
//
// Registers: DI row i's codes, R10 the offset to row h+i's, SI xw, R9 dx,
// R14 xsum, DX row i's scales, R13 its biases, R15 the offset to row
// h+i's, R12 kind, R8 units, BX groups left, CX groups of the block left,
// R11 the block's s·dx of row i (row h+i's 32 bytes on). Row i: Z0, Z1 a
// step's int32 lanes, Y9 the chain, Y15 and X6 the bias sums; row h+i: Z2,
// Z3, Y11, Y13, X7. Z26-Z29 a step's xw (two units; 8-bit one unit: Z26,
// Z27), Z10 the nibble mask, Z30 and Z31 the indices, K1 the even bytes.
// Frame: 0-63 the block's s·dx, 64 codes, 72 scales, 80 biases, 88 y, 96
// rows left.

#define STEP1(src, a0, t0, t1) \
	VPMOVZXBW src, t0; \
	VPSRLW    $4, t0, t1; \
	VPANDD    Z10, t0, t0; \
	VPMADDWD  (SI), t0, a0; \
	VPDPWSSD  64(SI), t1, a0

#define STEP2(src, a0, a1, t0, t1, t2, t3) \
	VMOVDQU64 src, t3; \
	VPERMB.Z  t3, Z30, K1, t0; \
	VPERMB.Z  t3, Z31, K1, t2; \
	VPSRLW    $4, t0, t1; \
	VPANDD    Z10, t0, t0; \
	VPSRLW    $4, t2, t3; \
	VPANDD    Z10, t2, t2; \
	VPMADDWD  Z26, t0, a0; \
	VPDPWSSD  Z27, t1, a0; \
	VPMADDWD  Z28, t2, a1; \
	VPDPWSSD  Z29, t3, a1; \
	VPADDD    a1, a0, a0

// Q8STEP2 and Q8STEP1 are STEP2 and STEP1 for 8-bit codes (two and one
// units per group, xw in Z26-Z29 or Z26-Z27): each group's units summed
// into its own zmm as in rowsIntVNNI, then both folded at once, lanes 0-7
// group g's and 8-15 group g+1's, as a 4-bit step leaves them.
#define Q8STEP2(s0, s1, s2, s3, a0, a1, t0, t1) \
	VPMOVZXBW  s0, t0; \
	VPMADDWD   Z26, t0, a0; \
	VPMOVZXBW  s1, t1; \
	VPDPWSSD   Z27, t1, a0; \
	VPMOVZXBW  s2, t0; \
	VPMADDWD   Z28, t0, a1; \
	VPMOVZXBW  s3, t1; \
	VPDPWSSD   Z29, t1, a1; \
	Q8PAIRFOLD(a0, a1, t0, t1)

#define Q8STEP1(s0, s1, a0, a1, t0, t1) \
	VPMOVZXBW  s0, t0; \
	VPMADDWD   Z26, t0, a0; \
	VPMOVZXBW  s1, t1; \
	VPMADDWD   Z27, t1, a1; \
	Q8PAIRFOLD(a0, a1, t0, t1)

#define Q8PAIRFOLD(a0, a1, t0, t1) \
	VSHUFI64X2 $0x44, a1, a0, t0; \
	VSHUFI64X2 $0xee, a1, a0, t1; \
	VPADDD     t1, t0, a0

// XW2 loads a two-unit step's xw.
#define XW2 \
	VMOVDQU64 (SI), Z26; \
	VMOVDQU64 64(SI), Z27; \
	VMOVDQU64 128(SI), Z28; \
	VMOVDQU64 192(SI), Z29

// CHAIN adds a step's two groups to a row's chain: g's lanes, then g+1's.
#define CHAIN(a0, a0y, a1y, sp, sp1, facc) \
	VCVTDQ2PS     a0, a0; \
	VBROADCASTSS  sp, Y8; \
	VFMADD231PS   Y8, a0y, facc; \
	VEXTRACTF32X8 $1, a0, a1y; \
	VBROADCASTSS  sp1, Y8; \
	VFMADD231PS   Y8, a1y, facc

// SINGLE2 and SINGLE1 are a row's odd last group (rowsIntVNNI's units).
#define SINGLE2(src, a0, t0, t1, t2, t3) \
	VPMOVZXBW  src, t0; \
	VPSRLW     $4, t0, t1; \
	VPANDD     Z10, t0, t0; \
	VSHUFI64X2 $0x44, t1, t0, t2; \
	VSHUFI64X2 $0xee, t1, t0, t3; \
	VPMADDWD   (SI), t2, a0; \
	VPDPWSSD   64(SI), t3, a0

// Q8SINGLE2 and Q8SINGLE1: an odd last group of 8-bit codes.
#define Q8SINGLE2(s0, s1, a0, t0, t1) \
	VPMOVZXBW s0, t0; \
	VPMADDWD  (SI), t0, a0; \
	VPMOVZXBW s1, t1; \
	VPDPWSSD  64(SI), t1, a0

#define Q8SINGLE1(s0, a0, t0) \
	VPMOVZXBW s0, t0; \
	VPMADDWD  (SI), t0, a0

#define SINGLE1(src, a0, t0, t0y, t1y) \
	VPMOVZXBW    src, t0y; \
	VPSRLW       $4, t0y, t1y; \
	VINSERTI64X4 $1, t1y, t0, t0; \
	VPANDD       Z10, t0, t0; \
	VPMADDWD     (SI), t0, a0

#define FOLD(a0, a0y, t0y, sp, facc) \
	VEXTRACTI64X4 $1, a0, t0y; \
	VPADDD        t0y, a0y, a0y; \
	VCVTDQ2PS     a0y, a0y; \
	VBROADCASTSS  sp, Y8; \
	VFMADD231PS   Y8, a0y, facc

// Eight scales (Y12) and biases (Y14) of a row, widened from their kind.
#define L32(s, b) \
	VMOVUPS s, Y12; \
	VMOVUPS b, Y14

#define L16(s, b) \
	VCVTPH2PS s, Y12; \
	VCVTPH2PS b, Y14

#define LB16(s, b) \
	VPMOVZXWD s, Y12; \
	VPSLLD    $16, Y12, Y12; \
	VPMOVZXWD b, Y14; \
	VPSLLD    $16, Y14, Y14

#define EIGHT(off, bias) \
	VMULPS      (R9), Y12, Y12; \
	VFMADD231PS (R14), Y14, bias; \
	VMOVUPS     Y12, off(SP)

// One scale (X12) and bias (X14).
#define T32(s, b) \
	VMOVSS s, X12; \
	VMOVSS b, X14

#define T16(s, b) \
	MOVWLZX   s, AX; \
	VMOVD     AX, X12; \
	VCVTPH2PS X12, X12; \
	MOVWLZX   b, AX; \
	VMOVD     AX, X14; \
	VCVTPH2PS X14, X14

#define TB16(s, b) \
	MOVWLZX s, AX; \
	SHLL    $16, AX; \
	VMOVD   AX, X12; \
	MOVWLZX b, AX; \
	SHLL    $16, AX; \
	VMOVD   AX, X14

#define ONE(off, tail) \
	VMULSS      (R9), X12, X12; \
	VMOVSS      X12, off(SP)(R11*4); \
	VFMADD231SS (R14), X14, tail

#define REDUCE(facc, faccx, bias, tail, dst) \
	VADDPS       bias, facc, facc; \
	VEXTRACTF128 $1, facc, X1; \
	VADDPS       X1, faccx, X0; \
	VHADDPS      X0, X0, X0; \
	VHADDPS      X0, X0, X0; \
	VADDSS       tail, X0, X0; \
	VMOVSS       X0, dst

// func rowsIntHalves(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32, h int)
TEXT ·rowsIntHalves(SB), NOSPLIT, $104-112
	VPBROADCASTB halvesNibble<>(SB), Z10
	VMOVDQU64    halvesIdxA<>(SB), Z30
	VMOVDQU64    halvesIdxB<>(SB), Z31
	MOVQ    $0x5555555555555555, AX
	KMOVQ   AX, K1
	MOVQ    q+0(FP), AX
	MOVQ    AX, 64(SP)
	MOVQ    sc+40(FP), AX
	MOVQ    AX, 72(SP)
	MOVQ    bs+48(FP), AX
	MOVQ    AX, 80(SP)
	MOVQ    y+96(FP), AX
	MOVQ    AX, 88(SP)
	MOVQ    h+104(FP), AX
	MOVQ    AX, 96(SP)
	MOVQ    stride+8(FP), R10
	IMULQ   AX, R10
	MOVQ    sstride+56(FP), R15
	IMULQ   AX, R15
	MOVQ    kind+64(FP), R12
	MOVQ    units+80(FP), R8

row:
	CMPQ 96(SP), $0
	JEQ  end
	MOVQ 64(SP), DI
	MOVQ xw+16(FP), SI
	MOVQ dx+24(FP), R9
	MOVQ xsum+32(FP), R14
	MOVQ 72(SP), DX
	MOVQ 80(SP), R13
	MOVQ groups+72(FP), BX
	VXORPS Y9, Y9, Y9
	VXORPS Y15, Y15, Y15
	VXORPS X6, X6, X6
	VXORPS Y11, Y11, Y11
	VXORPS Y13, Y13, Y13
	VXORPS X7, X7, X7

block:
	CMPQ BX, $8
	JLT  tail
	CMPQ R12, $1
	JEQ  f16x8
	JGT  bf16x8
	L32((DX), (R13))
	EIGHT(0, Y15)
	L32((DX)(R15*1), (R13)(R15*1))
	EIGHT(32, Y13)
	ADDQ $32, DX
	ADDQ $32, R13
	JMP  have8

f16x8:
	L16((DX), (R13))
	EIGHT(0, Y15)
	L16((DX)(R15*1), (R13)(R15*1))
	EIGHT(32, Y13)
	ADDQ $16, DX
	ADDQ $16, R13
	JMP  have8

bf16x8:
	LB16((DX), (R13))
	EIGHT(0, Y15)
	LB16((DX)(R15*1), (R13)(R15*1))
	EIGHT(32, Y13)
	ADDQ $16, DX
	ADDQ $16, R13

have8:
	ADDQ $32, R9
	ADDQ $32, R14
	MOVQ $8, CX
	SUBQ $8, BX
	JMP  steps

// The last groups (fewer than eight), one by one as rowInt's tail.
tail:
	TESTQ BX, BX
	JZ    rowdone
	MOVQ  BX, CX
	XORQ  R11, R11

tailsc:
	CMPQ R12, $1
	JEQ  f16
	JGT  bf16
	T32((DX), (R13))
	ONE(0, X6)
	T32((DX)(R15*1), (R13)(R15*1))
	ONE(32, X7)
	ADDQ $4, DX
	ADDQ $4, R13
	JMP  have

f16:
	T16((DX), (R13))
	ONE(0, X6)
	T16((DX)(R15*1), (R13)(R15*1))
	ONE(32, X7)
	ADDQ $2, DX
	ADDQ $2, R13
	JMP  have

bf16:
	TB16((DX), (R13))
	ONE(0, X6)
	TB16((DX)(R15*1), (R13)(R15*1))
	ONE(32, X7)
	ADDQ $2, DX
	ADDQ $2, R13

have:
	ADDQ $4, R9
	ADDQ $4, R14
	INCQ R11
	CMPQ R11, CX
	JLT  tailsc
	XORQ BX, BX

steps:
	LEAQ (SP), R11

pairs:
	CMPQ CX, $2
	JLT  single
	CMPB q4+88(FP), $0
	JEQ  q8pair
	CMPQ R8, $1
	JEQ  one
	XW2
	PREFETCHT0 4096(DI)
	PREFETCHT0 4096(DI)(R10*1)
	STEP2((DI), Z0, Z1, Z16, Z17, Z18, Z19)
	STEP2((DI)(R10*1), Z2, Z3, Z22, Z23, Z24, Z25)
	ADDQ $64, DI
	ADDQ $256, SI
	JMP  stepped

one:
	PREFETCHT0 4096(DI)
	PREFETCHT0 4096(DI)(R10*1)
	STEP1((DI), Z0, Z16, Z17)
	STEP1((DI)(R10*1), Z2, Z22, Z23)
	ADDQ $32, DI
	ADDQ $128, SI
	JMP  stepped

q8pair:
	CMPQ R8, $1
	JEQ  q8one
	XW2
	Q8STEP2((DI), 32(DI), 64(DI), 96(DI), Z0, Z1, Z16, Z17)
	Q8STEP2((DI)(R10*1), 32(DI)(R10*1), 64(DI)(R10*1), 96(DI)(R10*1), Z2, Z3, Z22, Z23)
	ADDQ $128, DI
	ADDQ $256, SI
	JMP  stepped

q8one:
	VMOVDQU64 (SI), Z26
	VMOVDQU64 64(SI), Z27
	Q8STEP1((DI), 32(DI), Z0, Z1, Z16, Z17)
	Q8STEP1((DI)(R10*1), 32(DI)(R10*1), Z2, Z3, Z22, Z23)
	ADDQ $64, DI
	ADDQ $128, SI

stepped:
	CHAIN(Z0, Y0, Y1, (R11), 4(R11), Y9)
	CHAIN(Z2, Y2, Y3, 32(R11), 36(R11), Y11)
	ADDQ $8, R11
	SUBQ $2, CX
	JMP  pairs

single:
	TESTQ CX, CX
	JZ    block
	CMPB  q4+88(FP), $0
	JEQ   q8single
	CMPQ  R8, $1
	JEQ   sone
	SINGLE2((DI), Z0, Z16, Z17, Z18, Z19)
	SINGLE2((DI)(R10*1), Z2, Z22, Z23, Z24, Z25)
	ADDQ  $32, DI
	ADDQ  $128, SI
	JMP   sfold

sone:
	SINGLE1((DI), Z0, Z16, Y16, Y17)
	SINGLE1((DI)(R10*1), Z2, Z22, Y22, Y23)
	ADDQ $16, DI
	ADDQ $64, SI
	JMP  sfold

q8single:
	CMPQ R8, $1
	JEQ  q8sone
	Q8SINGLE2((DI), 32(DI), Z0, Z16, Z17)
	Q8SINGLE2((DI)(R10*1), 32(DI)(R10*1), Z2, Z22, Z23)
	ADDQ $64, DI
	ADDQ $128, SI
	JMP  sfold

q8sone:
	Q8SINGLE1((DI), Z0, Z16)
	Q8SINGLE1((DI)(R10*1), Z2, Z22)
	ADDQ $32, DI
	ADDQ $64, SI

sfold:
	FOLD(Z0, Y0, Y16, (R11), Y9)
	FOLD(Z2, Y2, Y22, 32(R11), Y11)
	JMP block

// rowInt's reduction, to the last bit, for both rows.
rowdone:
	MOVQ   88(SP), AX
	REDUCE(Y9, X9, Y15, X6, (AX))
	MOVQ   h+104(FP), CX
	REDUCE(Y11, X11, Y13, X7, (AX)(CX*4))
	ADDQ   $4, 88(SP)
	MOVQ   stride+8(FP), AX
	ADDQ   AX, 64(SP)
	MOVQ   sstride+56(FP), AX
	ADDQ   AX, 72(SP)
	ADDQ   AX, 80(SP)
	DECQ   96(SP)
	JMP    row

end:
	VZEROUPPER
	RET

// func xwPairUnits(dst, xw *int16, pairs, units int)
//
// Per pair of groups and per unit k: [k's even values of g | of g+1],
// [k's odd values of g | of g+1], 64 bytes each.
TEXT ·xwPairUnits(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ xw+8(FP), SI
	MOVQ pairs+16(FP), BX
	MOVQ units+24(FP), DX
	MOVQ DX, R8
	SHLQ $6, R8 // a group's xw bytes

xpair:
	MOVQ DX, CX
	MOVQ SI, AX

xunit:
	VMOVDQU64  (AX), Z0
	VMOVDQU64  (AX)(R8*1), Z1
	VSHUFI64X2 $0x44, Z1, Z0, Z2
	VSHUFI64X2 $0xee, Z1, Z0, Z3
	VMOVDQU64  Z2, (DI)
	VMOVDQU64  Z3, 64(DI)
	ADDQ       $64, AX
	ADDQ       $128, DI
	DECQ       CX
	JNZ        xunit
	LEAQ       (SI)(R8*2), SI
	DECQ       BX
	JNZ        xpair
	VZEROUPPER
	RET
