//go:build goexperiment.simd && amd64

#include "textflag.h"

DATA vnniNibble<>+0(SB)/1, $15
GLOBL vnniNibble<>(SB), RODATA|NOPTR, $1

// rowsInt4VNNI is rowsInt4 (avx2_qint4_amd64.s) with AVX512_VNNI: a group's
// int16 products are summed by VPDPWSSD, 32 products into 16 int32 lanes per
// instruction with no separate add, two units (Q4) or one unit (Q8) of a row
// per zmm. Lane j < 8 of a row's zmm sums what lane j of rowsInt4's ymm sums
// for the first unit of the zmm, lane 8+j what it sums for the second (Q4:
// xw's two units regrouped so that a zmm holds both units' even values, and
// another both units' odd ones; Q8: the unit's words 16-31 land in lanes
// 8-15 as rowsInt4 puts them in its second VPMADDWD), so folding the upper
// eight lanes onto the lower ones at the group's end gives rowsInt4's int32
// lanes exactly (integer sums: the order does not matter). From there every
// float operation is rowsInt4's in its order: the same bits
// (TestRowsInt4SameBits runs both).

// Q4PAIRFIRST starts a row's group sum acc with two units: 32 bytes widened
// to words, the low nibbles (even columns) against Z8, the high ones (odd
// columns) against Z9.
#define Q4PAIRFIRST(src, acc) \
	VPMOVZXBW src, Z18; \
	VPSRLW    $4, Z18, Z19; \
	VPANDD    Z10, Z18, Z18; \
	VPMADDWD  Z8, Z18, acc; \
	VPDPWSSD  Z9, Z19, acc

#define Q4PAIR(src, acc) \
	VPMOVZXBW src, Z18; \
	VPSRLW    $4, Z18, Z19; \
	VPANDD    Z10, Z18, Z18; \
	VPDPWSSD  Z8, Z18, acc; \
	VPDPWSSD  Z9, Z19, acc

// Q4ONEFIRST starts acc with one unit in ymm (Y8, Y9 as rowsInt4 loads
// them); writing the ymm clears acc's upper lanes.
#define Q4ONEFIRST(src, acc) \
	VPMOVZXBW src, Y18; \
	VPSRLW    $4, Y18, Y19; \
	VPANDD    Y10, Y18, Y18; \
	VPMADDWD  Y8, Y18, acc; \
	VPDPWSSD  Y9, Y19, acc

#define Q8FIRST(src, acc) \
	VPMOVZXBW src, Z18; \
	VPMADDWD  Z8, Z18, acc

#define Q8ONE(src, acc) \
	VPMOVZXBW src, Z18; \
	VPDPWSSD  Z8, Z18, acc

// FOLD adds a row's upper eight int32 lanes onto its lower eight.
#define FOLD(z, y) \
	VEXTRACTI64X4 $1, z, Y18; \
	VPADDD        Y18, y, y

// A row's eight scales (Y14) and biases (Y15), widened from their kind.
#define S32(s, b) \
	VMOVUPS s, Y14; \
	VMOVUPS b, Y15

#define S16(s, b) \
	VCVTPH2PS s, Y14; \
	VCVTPH2PS b, Y15

#define SB16(s, b) \
	VPMOVZXWD s, Y14; \
	VPSLLD    $16, Y14, Y14; \
	VPMOVZXWD b, Y15; \
	VPSLLD    $16, Y15, Y15

#define EIGHT(off) \
	VMULPS      (R9), Y14, Y14; \
	VMOVUPS     Y14, off(SP); \
	VMOVUPS     128+off(SP), Y13; \
	VFMADD231PS (R14), Y15, Y13; \
	VMOVUPS     Y13, 128+off(SP)

#define T32(s, b) \
	VMOVSS s, X14; \
	VMOVSS b, X15

#define T16(s, b) \
	MOVWLZX   s, CX; \
	VMOVD     CX, X14; \
	VCVTPH2PS X14, X14; \
	MOVWLZX   b, CX; \
	VMOVD     CX, X15; \
	VCVTPH2PS X15, X15

#define TB16(s, b) \
	MOVWLZX s, CX; \
	SHLL    $16, CX; \
	VMOVD   CX, X14; \
	MOVWLZX b, CX; \
	SHLL    $16, CX; \
	VMOVD   CX, X15

#define TAIL(acc, facc, toff) \
	VMULSS       (R9), X14, X14; \
	VBROADCASTSS X14, Y14; \
	VFMADD231PS  Y14, acc, facc; \
	VMOVSS       toff(SP), X13; \
	VFMADD231SS  (R14), X15, X13; \
	VMOVSS       X13, toff(SP)

// func rowsInt4VNNI(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32)
//
// Registers and frame as rowsInt4's, except: Z0-Z3 the rows' int32 lanes
// of a group (16 each until the fold), Z8 and Z9 the units' xw, Z10 the
// nibble mask, Z16-Z19 scratch. The prefetch (R15) runs ahead by four rows
// as in rowsInt4, as many bytes per step as the step reads.
TEXT ·rowsInt4VNNI(SB), NOSPLIT, $272-104
	MOVQ q+0(FP), DI
	MOVQ stride+8(FP), R8
	LEAQ (R8)(R8*2), R12
	MOVQ xw+16(FP), SI
	MOVQ dx+24(FP), R9
	MOVQ xsum+32(FP), R14
	MOVQ sc+40(FP), DX
	MOVQ bs+48(FP), R13
	MOVQ sstride+56(FP), R10
	LEAQ (R10)(R10*2), AX
	MOVQ groups+72(FP), BX
	VPBROADCASTB vnniNibble<>(SB), Z10
	LEAQ (DI)(R8*4), R15 // after the last global access: dynamic linking clobbers R15 there
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y13, Y13, Y13
	VMOVUPS Y13, 128(SP)
	VMOVUPS Y13, 160(SP)
	VMOVUPS Y13, 192(SP)
	VMOVUPS Y13, 224(SP)
	VMOVUPS X13, 256(SP)

eights:
	CMPQ BX, $8
	JLT  tail
	MOVQ kind+64(FP), CX
	CMPQ CX, $1
	JEQ  e16
	JGT  eb16
	S32((DX), (R13))
	EIGHT(0)
	S32((DX)(R10*1), (R13)(R10*1))
	EIGHT(32)
	S32((DX)(R10*2), (R13)(R10*2))
	EIGHT(64)
	S32((DX)(AX*1), (R13)(AX*1))
	EIGHT(96)
	ADDQ $32, DX
	ADDQ $32, R13
	JMP  have8

e16:
	S16((DX), (R13))
	EIGHT(0)
	S16((DX)(R10*1), (R13)(R10*1))
	EIGHT(32)
	S16((DX)(R10*2), (R13)(R10*2))
	EIGHT(64)
	S16((DX)(AX*1), (R13)(AX*1))
	EIGHT(96)
	ADDQ $16, DX
	ADDQ $16, R13
	JMP  have8

eb16:
	SB16((DX), (R13))
	EIGHT(0)
	SB16((DX)(R10*1), (R13)(R10*1))
	EIGHT(32)
	SB16((DX)(R10*2), (R13)(R10*2))
	EIGHT(64)
	SB16((DX)(AX*1), (R13)(AX*1))
	EIGHT(96)
	ADDQ $16, DX
	ADDQ $16, R13

have8:
	ADDQ $32, R9
	ADDQ $32, R14
	XORQ R11, R11

group:
	MOVQ  units+80(FP), CX
	CMPB  q4+88(FP), $0
	JEQ   q8first
	TESTQ $1, CX
	JZ    q4firstpair

	// An odd unit count: the first unit alone, in ymm.
	VMOVDQU (SI), Y8
	VMOVDQU 32(SI), Y9
	Q4ONEFIRST((DI), Y0)
	Q4ONEFIRST((DI)(R8*1), Y1)
	Q4ONEFIRST((DI)(R8*2), Y2)
	Q4ONEFIRST((DI)(R12*1), Y3)
	PREFETCHT0 (R15)
	ADDQ    $64, R15
	ADDQ    $16, DI
	ADDQ    $64, SI
	DECQ    CX
	JZ      converted // one unit: no upper lanes to fold
	JMP     q4pair

// Two units' xw: Z16 = unit u's 16 even and 16 odd values, Z17 = unit
// u+1's; Z8 = both units' even values, Z9 both units' odd ones.
q4firstpair:
	VMOVDQU64  (SI), Z16
	VMOVDQU64  64(SI), Z17
	VSHUFI64X2 $0x44, Z17, Z16, Z8
	VSHUFI64X2 $0xee, Z17, Z16, Z9
	Q4PAIRFIRST((DI), Z0)
	Q4PAIRFIRST((DI)(R8*1), Z1)
	Q4PAIRFIRST((DI)(R8*2), Z2)
	Q4PAIRFIRST((DI)(R12*1), Z3)
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	ADDQ    $128, R15
	ADDQ    $32, DI
	ADDQ    $128, SI
	SUBQ    $2, CX
	JZ      sums

q4pair:
	VMOVDQU64  (SI), Z16
	VMOVDQU64  64(SI), Z17
	VSHUFI64X2 $0x44, Z17, Z16, Z8
	VSHUFI64X2 $0xee, Z17, Z16, Z9
	Q4PAIR((DI), Z0)
	Q4PAIR((DI)(R8*1), Z1)
	Q4PAIR((DI)(R8*2), Z2)
	Q4PAIR((DI)(R12*1), Z3)
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	ADDQ    $128, R15
	ADDQ    $32, DI
	ADDQ    $128, SI
	SUBQ    $2, CX
	JNZ     q4pair
	JMP     sums

q8first:
	VMOVDQU64 (SI), Z8
	Q8FIRST((DI), Z0)
	Q8FIRST((DI)(R8*1), Z1)
	Q8FIRST((DI)(R8*2), Z2)
	Q8FIRST((DI)(R12*1), Z3)
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	ADDQ    $128, R15
	ADDQ    $32, DI
	ADDQ    $64, SI
	DECQ    CX
	JZ      sums

q8unit:
	VMOVDQU64 (SI), Z8
	Q8ONE((DI), Z0)
	Q8ONE((DI)(R8*1), Z1)
	Q8ONE((DI)(R8*2), Z2)
	Q8ONE((DI)(R12*1), Z3)
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	ADDQ    $128, R15
	ADDQ    $32, DI
	ADDQ    $64, SI
	DECQ    CX
	JNZ     q8unit

sums:
	FOLD(Z0, Y0)
	FOLD(Z1, Y1)
	FOLD(Z2, Y2)
	FOLD(Z3, Y3)

converted:
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	CMPQ      R11, $8
	JEQ       tailsum
	VBROADCASTSS (SP)(R11*4), Y14
	VFMADD231PS  Y14, Y0, Y4
	VBROADCASTSS 32(SP)(R11*4), Y14
	VFMADD231PS  Y14, Y1, Y5
	VBROADCASTSS 64(SP)(R11*4), Y14
	VFMADD231PS  Y14, Y2, Y6
	VBROADCASTSS 96(SP)(R11*4), Y14
	VFMADD231PS  Y14, Y3, Y7
	INCQ         R11
	CMPQ         R11, $8
	JLT          group
	SUBQ         $8, BX
	JMP          eights

tail:
	TESTQ BX, BX
	JZ    done
	MOVQ  $8, R11
	JMP   group

tailsum:
	MOVQ kind+64(FP), CX
	CMPQ CX, $1
	JEQ  t16
	JGT  tb16
	T32((DX), (R13))
	TAIL(Y0, Y4, 256)
	T32((DX)(R10*1), (R13)(R10*1))
	TAIL(Y1, Y5, 260)
	T32((DX)(R10*2), (R13)(R10*2))
	TAIL(Y2, Y6, 264)
	T32((DX)(AX*1), (R13)(AX*1))
	TAIL(Y3, Y7, 268)
	ADDQ $4, DX
	ADDQ $4, R13
	JMP  tnext

t16:
	T16((DX), (R13))
	TAIL(Y0, Y4, 256)
	T16((DX)(R10*1), (R13)(R10*1))
	TAIL(Y1, Y5, 260)
	T16((DX)(R10*2), (R13)(R10*2))
	TAIL(Y2, Y6, 264)
	T16((DX)(AX*1), (R13)(AX*1))
	TAIL(Y3, Y7, 268)
	ADDQ $2, DX
	ADDQ $2, R13
	JMP  tnext

tb16:
	TB16((DX), (R13))
	TAIL(Y0, Y4, 256)
	TB16((DX)(R10*1), (R13)(R10*1))
	TAIL(Y1, Y5, 260)
	TB16((DX)(R10*2), (R13)(R10*2))
	TAIL(Y2, Y6, 264)
	TB16((DX)(AX*1), (R13)(AX*1))
	TAIL(Y3, Y7, 268)
	ADDQ $2, DX
	ADDQ $2, R13

tnext:
	ADDQ $4, R9
	ADDQ $4, R14
	DECQ BX
	JMP  tail

// rowsInt4's reduction, to the last bit.
done:
	VADDPS       128(SP), Y4, Y4
	VADDPS       160(SP), Y5, Y5
	VADDPS       192(SP), Y6, Y6
	VADDPS       224(SP), Y7, Y7
	VPERM2F128   $0x20, Y5, Y4, Y8
	VPERM2F128   $0x31, Y5, Y4, Y9
	VADDPS       Y9, Y8, Y8
	VPERM2F128   $0x20, Y7, Y6, Y11
	VPERM2F128   $0x31, Y7, Y6, Y12
	VADDPS       Y12, Y11, Y11
	VHADDPS      Y11, Y8, Y8
	VHADDPS      Y8, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VUNPCKLPS    X9, X8, X8
	VADDPS       256(SP), X8, X8
	MOVQ         y+96(FP), DI
	VMOVUPS      X8, (DI)
	VZEROUPPER
	RET
