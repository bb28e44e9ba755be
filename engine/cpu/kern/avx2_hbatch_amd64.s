//go:build goexperiment.simd && amd64

#include "textflag.h"

// Batched decode with half-float weights (hbatch.go): two weight rows
// against four float32 inputs. Per eight columns each row's halves are
// widened once (F16 by F16C, BF16 by a shift) and multiplied with the four
// inputs' values, each loaded once for both rows. Registers: DI row 0's
// weights (row 1's at R12), SI R9 R10 R11 the inputs, BX the column, CX
// the columns, R13 bf16, AX out; Y0-Y3 row 0's sums of inputs 0-3, Y4-Y7
// row 1's, Y8 Y9 the rows' widened weights, Y10 Y11 an input's values.

#define HFMA(xr, a0, a1, t) \
	VMOVUPS     (xr)(BX*4), t; \
	VFMADD231PS t, Y8, a0; \
	VFMADD231PS t, Y9, a1

// HSUM4 writes the sums of a0-a3's lanes to 4 floats at off(AX); x0 is
// a0's low half.
#define HSUM4(a0, a1, a2, a3, x0, off) \
	VHADDPS      a1, a0, a0; \
	VHADDPS      a3, a2, a2; \
	VHADDPS      a2, a0, a0; \
	VEXTRACTF128 $1, a0, X8; \
	VADDPS       X8, x0, x0; \
	VMOVUPS      x0, off(AX)

// func hbatch2x4(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, out *float32)
// writes out[4·r+j] = Σ_c w[r·ldw/2+c]·x[j·ldx/4+c] for rows r = 0, 1 and
// inputs j = 0..3; ldw and ldx are in bytes, cols a multiple of 8.
TEXT ·hbatch2x4(SB), NOSPLIT, $0-56
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
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	TESTQ   R13, R13
	JNZ     hbbf16
hbf16:
	VCVTPH2PS (DI)(BX*2), Y8
	VCVTPH2PS (R12)(BX*2), Y9
	HFMA(SI, Y0, Y4, Y10)
	HFMA(R9, Y1, Y5, Y11)
	HFMA(R10, Y2, Y6, Y10)
	HFMA(R11, Y3, Y7, Y11)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  hbf16
	JMP  hbdone
hbbf16:
	VPMOVZXWD (DI)(BX*2), Y8
	VPMOVZXWD (R12)(BX*2), Y9
	VPSLLD    $16, Y8, Y8
	VPSLLD    $16, Y9, Y9
	HFMA(SI, Y0, Y4, Y10)
	HFMA(R9, Y1, Y5, Y11)
	HFMA(R10, Y2, Y6, Y10)
	HFMA(R11, Y3, Y7, Y11)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  hbbf16
hbdone:
	HSUM4(Y0, Y1, Y2, Y3, X0, 0)
	HSUM4(Y4, Y5, Y6, Y7, X4, 16)
	VZEROUPPER
	RET
