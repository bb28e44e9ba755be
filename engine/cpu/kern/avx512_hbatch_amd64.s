//go:build goexperiment.simd && amd64

#include "textflag.h"

// hbatch2x4 (avx2_hbatch_amd64.s) at 512 bits: two weight rows against four
// float32 inputs, 16 columns a step, each row's halves widened once per step
// (F16 by VCVTPH2PS to zmm, BF16 by a shift) and multiplied with the four
// inputs' values, each loaded once for both rows. Registers as hbatch2x4's,
// in zmm: Z0-Z3 row 0's sums of inputs 0-3, Z4-Z7 row 1's, Z8 Z9 the rows'
// widened weights, Z10 Z11 an input's values.

#define HZFMA(xr, a0, a1, t) \
	VMOVUPS     (xr)(BX*4), t; \
	VFMADD231PS t, Z8, a0; \
	VFMADD231PS t, Z9, a1

// HZFOLD adds the upper half of each of z0-z3 to its lower half (y0-y3).
#define HZFOLD(z0, z1, z2, z3, y0, y1, y2, y3) \
	VEXTRACTF64X4 $1, z0, Y12; \
	VEXTRACTF64X4 $1, z1, Y13; \
	VEXTRACTF64X4 $1, z2, Y14; \
	VEXTRACTF64X4 $1, z3, Y15; \
	VADDPS        Y12, y0, y0; \
	VADDPS        Y13, y1, y1; \
	VADDPS        Y14, y2, y2; \
	VADDPS        Y15, y3, y3

// HZSUM4 writes the sums of a0-a3's eight lanes to 4 floats at off(AX); x0
// is a0's low half.
#define HZSUM4(a0, a1, a2, a3, x0, off) \
	VHADDPS      a1, a0, a0; \
	VHADDPS      a3, a2, a2; \
	VHADDPS      a2, a0, a0; \
	VEXTRACTF128 $1, a0, X8; \
	VADDPS       X8, x0, x0; \
	VMOVUPS      x0, off(AX)

// func hbatch2x4Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, out *float32)
// is hbatch2x4 for cols a multiple of 16.
TEXT ·hbatch2x4Z(SB), NOSPLIT, $0-56
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	ADDQ    DI, R12
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (SI)(R8*1), R9
	LEAQ    (R9)(R8*1), R10
	LEAQ    (R10)(R8*1), R11
	MOVQ    cols+32(FP), CX
	MOVBQZX bf16+40(FP), R13
	MOVQ    out+48(FP), AX
	XORQ    BX, BX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	TESTQ   R13, R13
	JNZ     hzbf16
hzf16:
	VCVTPH2PS (DI)(BX*2), Z8
	VCVTPH2PS (R12)(BX*2), Z9
	HZFMA(SI, Z0, Z4, Z10)
	HZFMA(R9, Z1, Z5, Z11)
	HZFMA(R10, Z2, Z6, Z10)
	HZFMA(R11, Z3, Z7, Z11)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT  hzf16
	JMP  hzdone
hzbf16:
	VPMOVZXWD (DI)(BX*2), Z8
	VPMOVZXWD (R12)(BX*2), Z9
	VPSLLD    $16, Z8, Z8
	VPSLLD    $16, Z9, Z9
	HZFMA(SI, Z0, Z4, Z10)
	HZFMA(R9, Z1, Z5, Z11)
	HZFMA(R10, Z2, Z6, Z10)
	HZFMA(R11, Z3, Z7, Z11)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT  hzbf16
hzdone:
	HZFOLD(Z0, Z1, Z2, Z3, Y0, Y1, Y2, Y3)
	HZFOLD(Z4, Z5, Z6, Z7, Y4, Y5, Y6, Y7)
	HZSUM4(Y0, Y1, Y2, Y3, X0, 0)
	HZSUM4(Y4, Y5, Y6, Y7, X4, 16)
	VZEROUPPER
	RET
