//go:build goexperiment.simd && amd64

#include "textflag.h"

// hbatch4xKZ: four F16/BF16 weight rows against K = 1..6 float32 inputs, 16
// columns a step. Each step widens the four rows' 16 values once (F16 by
// VCVTPH2PS, BF16 by a shift) into Z24-Z27 and multiplies them with each
// input's 16 values, loaded once for the four rows: 4K FMAs per 4
// widenings and K loads, into 4K accumulators (Z0-Z23: input j's rows in
// Z4j..Z4j+3), each its own chain. Every accumulator sums its columns as
// hbatch2x4Z's do (one FMA a step, lane l the columns ≡ l mod 16), and is
// folded and summed in hbatch2x4Z's order (upper half onto lower, then
// three VHADDPS and the upper 128 bits), so each output is hbatch2x4Z's
// bits. Input j's four outputs go to y + j·ldy (bytes), rows in order.
// Each step also asks for the next four rows' values at the same columns
// (rows 4-7, the next call's): four rows are four streams, which the
// hardware prefetchers pick up late at every call's start (without it a
// step of two sequences of the bench's F16 model streamed its weights at
// half decode's rate). Past the matrix a prefetch does not fault.
// Registers: DI row 0 (rows 1, 2 at R12 = ldw, 2·ldw further), R13 row 3,
// R15 row 6; SI input 0 (1, 2 at R8 = ldx, 2·ldx further), R9 input 3 (4,
// 5 likewise); all advance with the columns, CX counts the steps.
// The kernels differ only in K; hbatchk_gen.go writes them out.

// HB4F16 and HB4BF16 widen the four rows' 16 values at DI and R13.
#define HB4F16 \
	VCVTPH2PS (DI), Z24; \
	VCVTPH2PS (DI)(R12*1), Z25; \
	VCVTPH2PS (DI)(R12*2), Z26; \
	VCVTPH2PS (R13), Z27

#define HB4BF16 \
	VPMOVZXWD (DI), Z24; \
	VPMOVZXWD (DI)(R12*1), Z25; \
	VPMOVZXWD (DI)(R12*2), Z26; \
	VPMOVZXWD (R13), Z27; \
	VPSLLD    $16, Z24, Z24; \
	VPSLLD    $16, Z25, Z25; \
	VPSLLD    $16, Z26, Z26; \
	VPSLLD    $16, Z27, Z27

// HB4PREFETCH asks for rows 4-7's values of this step.
#define HB4PREFETCH \
	PREFETCHT0 (R13)(R12*1); \
	PREFETCHT0 (R13)(R12*2); \
	PREFETCHT0 (R15); \
	PREFETCHT0 (R15)(R12*1)

// HB4STEP advances the rows and inputs by 16 columns.
#define HB4STEP \
	ADDQ $32, DI; \
	ADDQ $32, R13; \
	ADDQ $32, R15; \
	ADDQ $64, SI; \
	ADDQ $64, R9

// HB4FMA multiplies the widened rows with one input's 16 values at xm.
#define HB4FMA(xm, t, a0, a1, a2, a3) \
	VMOVUPS     xm, t; \
	VFMADD231PS t, Z24, a0; \
	VFMADD231PS t, Z25, a1; \
	VFMADD231PS t, Z26, a2; \
	VFMADD231PS t, Z27, a3

// HB4FOLD adds the upper half of z to its lower half y.
#define HB4FOLD(z, y) \
	VEXTRACTF64X4 $1, z, Y28; \
	VADDPS        Y28, y, y

// HB4SUM writes the sums of Y0-Y3's eight lanes to 4 floats at (AX), then
// steps AX to the next input's outputs.
#define HB4SUM \
	VHADDPS       Y1, Y0, Y0; \
	VHADDPS       Y3, Y2, Y2; \
	VHADDPS       Y2, Y0, Y0; \
	VEXTRACTF32X4 $1, Y0, X28; \
	VADDPS        X28, X0, X0; \
	VMOVUPS       X0, (AX); \
	ADDQ          SI, AX

// func hbatch4x1Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)
TEXT ·hbatch4x1Z(SB), NOSPLIT, $0-64
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	LEAQ    (R12)(R12*2), R10
	LEAQ    (DI)(R10*1), R13
	LEAQ    (R13)(R10*1), R15
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (R8)(R8*2), R10
	LEAQ    (SI)(R10*1), R9
	MOVQ    cols+32(FP), CX
	SHRQ    $4, CX
	MOVBQZX bf16+40(FP), R10
	MOVQ    y+48(FP), AX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	TESTQ   R10, R10
	JNZ     h4x1bf16
h4x1f16:
	HB4F16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4STEP
	DECQ    CX
	JNZ     h4x1f16
	JMP     h4x1done
h4x1bf16:
	HB4BF16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4STEP
	DECQ    CX
	JNZ     h4x1bf16
h4x1done:
	MOVQ    ldy+56(FP), SI
	HB4FOLD(Z0, Y0)
	HB4FOLD(Z1, Y1)
	HB4FOLD(Z2, Y2)
	HB4FOLD(Z3, Y3)
	HB4SUM
	VZEROUPPER
	RET

// func hbatch4x2Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)
TEXT ·hbatch4x2Z(SB), NOSPLIT, $0-64
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	LEAQ    (R12)(R12*2), R10
	LEAQ    (DI)(R10*1), R13
	LEAQ    (R13)(R10*1), R15
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (R8)(R8*2), R10
	LEAQ    (SI)(R10*1), R9
	MOVQ    cols+32(FP), CX
	SHRQ    $4, CX
	MOVBQZX bf16+40(FP), R10
	MOVQ    y+48(FP), AX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	TESTQ   R10, R10
	JNZ     h4x2bf16
h4x2f16:
	HB4F16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4STEP
	DECQ    CX
	JNZ     h4x2f16
	JMP     h4x2done
h4x2bf16:
	HB4BF16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4STEP
	DECQ    CX
	JNZ     h4x2bf16
h4x2done:
	MOVQ    ldy+56(FP), SI
	HB4FOLD(Z0, Y0)
	HB4FOLD(Z1, Y1)
	HB4FOLD(Z2, Y2)
	HB4FOLD(Z3, Y3)
	HB4SUM
	HB4FOLD(Z4, Y4)
	HB4FOLD(Z5, Y5)
	HB4FOLD(Z6, Y6)
	HB4FOLD(Z7, Y7)
	VMOVAPS Y4, Y0
	VMOVAPS Y5, Y1
	VMOVAPS Y6, Y2
	VMOVAPS Y7, Y3
	HB4SUM
	VZEROUPPER
	RET

// func hbatch4x3Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)
TEXT ·hbatch4x3Z(SB), NOSPLIT, $0-64
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	LEAQ    (R12)(R12*2), R10
	LEAQ    (DI)(R10*1), R13
	LEAQ    (R13)(R10*1), R15
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (R8)(R8*2), R10
	LEAQ    (SI)(R10*1), R9
	MOVQ    cols+32(FP), CX
	SHRQ    $4, CX
	MOVBQZX bf16+40(FP), R10
	MOVQ    y+48(FP), AX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	TESTQ   R10, R10
	JNZ     h4x3bf16
h4x3f16:
	HB4F16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4STEP
	DECQ    CX
	JNZ     h4x3f16
	JMP     h4x3done
h4x3bf16:
	HB4BF16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4STEP
	DECQ    CX
	JNZ     h4x3bf16
h4x3done:
	MOVQ    ldy+56(FP), SI
	HB4FOLD(Z0, Y0)
	HB4FOLD(Z1, Y1)
	HB4FOLD(Z2, Y2)
	HB4FOLD(Z3, Y3)
	HB4SUM
	HB4FOLD(Z4, Y4)
	HB4FOLD(Z5, Y5)
	HB4FOLD(Z6, Y6)
	HB4FOLD(Z7, Y7)
	VMOVAPS Y4, Y0
	VMOVAPS Y5, Y1
	VMOVAPS Y6, Y2
	VMOVAPS Y7, Y3
	HB4SUM
	HB4FOLD(Z8, Y8)
	HB4FOLD(Z9, Y9)
	HB4FOLD(Z10, Y10)
	HB4FOLD(Z11, Y11)
	VMOVAPS Y8, Y0
	VMOVAPS Y9, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	HB4SUM
	VZEROUPPER
	RET

// func hbatch4x4Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)
TEXT ·hbatch4x4Z(SB), NOSPLIT, $0-64
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	LEAQ    (R12)(R12*2), R10
	LEAQ    (DI)(R10*1), R13
	LEAQ    (R13)(R10*1), R15
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (R8)(R8*2), R10
	LEAQ    (SI)(R10*1), R9
	MOVQ    cols+32(FP), CX
	SHRQ    $4, CX
	MOVBQZX bf16+40(FP), R10
	MOVQ    y+48(FP), AX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	VPXORD  Z12, Z12, Z12
	VPXORD  Z13, Z13, Z13
	VPXORD  Z14, Z14, Z14
	VPXORD  Z15, Z15, Z15
	TESTQ   R10, R10
	JNZ     h4x4bf16
h4x4f16:
	HB4F16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4FMA((R9), Z29, Z12, Z13, Z14, Z15)
	HB4STEP
	DECQ    CX
	JNZ     h4x4f16
	JMP     h4x4done
h4x4bf16:
	HB4BF16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4FMA((R9), Z29, Z12, Z13, Z14, Z15)
	HB4STEP
	DECQ    CX
	JNZ     h4x4bf16
h4x4done:
	MOVQ    ldy+56(FP), SI
	HB4FOLD(Z0, Y0)
	HB4FOLD(Z1, Y1)
	HB4FOLD(Z2, Y2)
	HB4FOLD(Z3, Y3)
	HB4SUM
	HB4FOLD(Z4, Y4)
	HB4FOLD(Z5, Y5)
	HB4FOLD(Z6, Y6)
	HB4FOLD(Z7, Y7)
	VMOVAPS Y4, Y0
	VMOVAPS Y5, Y1
	VMOVAPS Y6, Y2
	VMOVAPS Y7, Y3
	HB4SUM
	HB4FOLD(Z8, Y8)
	HB4FOLD(Z9, Y9)
	HB4FOLD(Z10, Y10)
	HB4FOLD(Z11, Y11)
	VMOVAPS Y8, Y0
	VMOVAPS Y9, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	HB4SUM
	HB4FOLD(Z12, Y12)
	HB4FOLD(Z13, Y13)
	HB4FOLD(Z14, Y14)
	HB4FOLD(Z15, Y15)
	VMOVAPS Y12, Y0
	VMOVAPS Y13, Y1
	VMOVAPS Y14, Y2
	VMOVAPS Y15, Y3
	HB4SUM
	VZEROUPPER
	RET

// func hbatch4x5Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)
TEXT ·hbatch4x5Z(SB), NOSPLIT, $0-64
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	LEAQ    (R12)(R12*2), R10
	LEAQ    (DI)(R10*1), R13
	LEAQ    (R13)(R10*1), R15
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (R8)(R8*2), R10
	LEAQ    (SI)(R10*1), R9
	MOVQ    cols+32(FP), CX
	SHRQ    $4, CX
	MOVBQZX bf16+40(FP), R10
	MOVQ    y+48(FP), AX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	VPXORD  Z12, Z12, Z12
	VPXORD  Z13, Z13, Z13
	VPXORD  Z14, Z14, Z14
	VPXORD  Z15, Z15, Z15
	VPXORD  Z16, Z16, Z16
	VPXORD  Z17, Z17, Z17
	VPXORD  Z18, Z18, Z18
	VPXORD  Z19, Z19, Z19
	TESTQ   R10, R10
	JNZ     h4x5bf16
h4x5f16:
	HB4F16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4FMA((R9), Z29, Z12, Z13, Z14, Z15)
	HB4FMA((R9)(R8*1), Z28, Z16, Z17, Z18, Z19)
	HB4STEP
	DECQ    CX
	JNZ     h4x5f16
	JMP     h4x5done
h4x5bf16:
	HB4BF16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4FMA((R9), Z29, Z12, Z13, Z14, Z15)
	HB4FMA((R9)(R8*1), Z28, Z16, Z17, Z18, Z19)
	HB4STEP
	DECQ    CX
	JNZ     h4x5bf16
h4x5done:
	MOVQ    ldy+56(FP), SI
	HB4FOLD(Z0, Y0)
	HB4FOLD(Z1, Y1)
	HB4FOLD(Z2, Y2)
	HB4FOLD(Z3, Y3)
	HB4SUM
	HB4FOLD(Z4, Y4)
	HB4FOLD(Z5, Y5)
	HB4FOLD(Z6, Y6)
	HB4FOLD(Z7, Y7)
	VMOVAPS Y4, Y0
	VMOVAPS Y5, Y1
	VMOVAPS Y6, Y2
	VMOVAPS Y7, Y3
	HB4SUM
	HB4FOLD(Z8, Y8)
	HB4FOLD(Z9, Y9)
	HB4FOLD(Z10, Y10)
	HB4FOLD(Z11, Y11)
	VMOVAPS Y8, Y0
	VMOVAPS Y9, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	HB4SUM
	HB4FOLD(Z12, Y12)
	HB4FOLD(Z13, Y13)
	HB4FOLD(Z14, Y14)
	HB4FOLD(Z15, Y15)
	VMOVAPS Y12, Y0
	VMOVAPS Y13, Y1
	VMOVAPS Y14, Y2
	VMOVAPS Y15, Y3
	HB4SUM
	HB4FOLD(Z16, Y16)
	HB4FOLD(Z17, Y17)
	HB4FOLD(Z18, Y18)
	HB4FOLD(Z19, Y19)
	VMOVAPS Y16, Y0
	VMOVAPS Y17, Y1
	VMOVAPS Y18, Y2
	VMOVAPS Y19, Y3
	HB4SUM
	VZEROUPPER
	RET

// func hbatch4x6Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)
TEXT ·hbatch4x6Z(SB), NOSPLIT, $0-64
	MOVQ    w+0(FP), DI
	MOVQ    ldw+8(FP), R12
	LEAQ    (R12)(R12*2), R10
	LEAQ    (DI)(R10*1), R13
	LEAQ    (R13)(R10*1), R15
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R8
	LEAQ    (R8)(R8*2), R10
	LEAQ    (SI)(R10*1), R9
	MOVQ    cols+32(FP), CX
	SHRQ    $4, CX
	MOVBQZX bf16+40(FP), R10
	MOVQ    y+48(FP), AX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	VPXORD  Z12, Z12, Z12
	VPXORD  Z13, Z13, Z13
	VPXORD  Z14, Z14, Z14
	VPXORD  Z15, Z15, Z15
	VPXORD  Z16, Z16, Z16
	VPXORD  Z17, Z17, Z17
	VPXORD  Z18, Z18, Z18
	VPXORD  Z19, Z19, Z19
	VPXORD  Z20, Z20, Z20
	VPXORD  Z21, Z21, Z21
	VPXORD  Z22, Z22, Z22
	VPXORD  Z23, Z23, Z23
	TESTQ   R10, R10
	JNZ     h4x6bf16
h4x6f16:
	HB4F16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4FMA((R9), Z29, Z12, Z13, Z14, Z15)
	HB4FMA((R9)(R8*1), Z28, Z16, Z17, Z18, Z19)
	HB4FMA((R9)(R8*2), Z29, Z20, Z21, Z22, Z23)
	HB4STEP
	DECQ    CX
	JNZ     h4x6f16
	JMP     h4x6done
h4x6bf16:
	HB4BF16
	HB4PREFETCH
	HB4FMA((SI), Z28, Z0, Z1, Z2, Z3)
	HB4FMA((SI)(R8*1), Z29, Z4, Z5, Z6, Z7)
	HB4FMA((SI)(R8*2), Z28, Z8, Z9, Z10, Z11)
	HB4FMA((R9), Z29, Z12, Z13, Z14, Z15)
	HB4FMA((R9)(R8*1), Z28, Z16, Z17, Z18, Z19)
	HB4FMA((R9)(R8*2), Z29, Z20, Z21, Z22, Z23)
	HB4STEP
	DECQ    CX
	JNZ     h4x6bf16
h4x6done:
	MOVQ    ldy+56(FP), SI
	HB4FOLD(Z0, Y0)
	HB4FOLD(Z1, Y1)
	HB4FOLD(Z2, Y2)
	HB4FOLD(Z3, Y3)
	HB4SUM
	HB4FOLD(Z4, Y4)
	HB4FOLD(Z5, Y5)
	HB4FOLD(Z6, Y6)
	HB4FOLD(Z7, Y7)
	VMOVAPS Y4, Y0
	VMOVAPS Y5, Y1
	VMOVAPS Y6, Y2
	VMOVAPS Y7, Y3
	HB4SUM
	HB4FOLD(Z8, Y8)
	HB4FOLD(Z9, Y9)
	HB4FOLD(Z10, Y10)
	HB4FOLD(Z11, Y11)
	VMOVAPS Y8, Y0
	VMOVAPS Y9, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	HB4SUM
	HB4FOLD(Z12, Y12)
	HB4FOLD(Z13, Y13)
	HB4FOLD(Z14, Y14)
	HB4FOLD(Z15, Y15)
	VMOVAPS Y12, Y0
	VMOVAPS Y13, Y1
	VMOVAPS Y14, Y2
	VMOVAPS Y15, Y3
	HB4SUM
	HB4FOLD(Z16, Y16)
	HB4FOLD(Z17, Y17)
	HB4FOLD(Z18, Y18)
	HB4FOLD(Z19, Y19)
	VMOVAPS Y16, Y0
	VMOVAPS Y17, Y1
	VMOVAPS Y18, Y2
	VMOVAPS Y19, Y3
	HB4SUM
	HB4FOLD(Z20, Y20)
	HB4FOLD(Z21, Y21)
	HB4FOLD(Z22, Y22)
	HB4FOLD(Z23, Y23)
	VMOVAPS Y20, Y0
	VMOVAPS Y21, Y1
	VMOVAPS Y22, Y2
	VMOVAPS Y23, Y3
	HB4SUM
	VZEROUPPER
	RET
