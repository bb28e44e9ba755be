//go:build ignore

// hbatchk_gen writes avx512_hbatchk_amd64.s, the hbatch4xKZ kernels for K =
// 1..6 (the same macros written out once per K):
//
//	go run hbatchk_gen.go > avx512_hbatchk_amd64.s
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	p(`//go:build goexperiment.simd && amd64

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

`)
	xs := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(R9)", "(R9)(R8*1)", "(R9)(R8*2)"}
	for k := 1; k <= 6; k++ {
		p("// func hbatch4x%dZ(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)\n", k)
		p("TEXT ·hbatch4x%dZ(SB), NOSPLIT, $0-64\n", k)
		p("\tMOVQ    w+0(FP), DI\n\tMOVQ    ldw+8(FP), R12\n\tLEAQ    (R12)(R12*2), R10\n\tLEAQ    (DI)(R10*1), R13\n\tLEAQ    (R13)(R10*1), R15\n")
		p("\tMOVQ    x+16(FP), SI\n\tMOVQ    ldx+24(FP), R8\n\tLEAQ    (R8)(R8*2), R10\n\tLEAQ    (SI)(R10*1), R9\n")
		p("\tMOVQ    cols+32(FP), CX\n\tSHRQ    $4, CX\n\tMOVBQZX bf16+40(FP), R10\n\tMOVQ    y+48(FP), AX\n")
		for a := 0; a < 4*k; a++ {
			p("\tVPXORD  Z%d, Z%d, Z%d\n", a, a, a)
		}
		p("\tTESTQ   R10, R10\n\tJNZ     h4x%dbf16\n", k)
		for _, v := range []string{"f16", "bf16"} {
			p("h4x%d%s:\n", k, v)
			if v == "f16" {
				p("\tHB4F16\n")
			} else {
				p("\tHB4BF16\n")
			}
			p("\tHB4PREFETCH\n")
			for j := 0; j < k; j++ {
				p("\tHB4FMA(%s, Z%d, Z%d, Z%d, Z%d, Z%d)\n", xs[j], 28+j%2, 4*j, 4*j+1, 4*j+2, 4*j+3)
			}
			p("\tHB4STEP\n\tDECQ    CX\n\tJNZ     h4x%d%s\n", k, v)
			if v == "f16" {
				p("\tJMP     h4x%ddone\n", k)
			}
		}
		p("h4x%ddone:\n\tMOVQ    ldy+56(FP), SI\n", k)
		for j := 0; j < k; j++ {
			for i := 0; i < 4; i++ {
				p("\tHB4FOLD(Z%d, Y%d)\n", 4*j+i, 4*j+i)
			}
			if j > 0 {
				for i := 0; i < 4; i++ {
					p("\tVMOVAPS Y%d, Y%d\n", 4*j+i, i)
				}
			}
			p("\tHB4SUM\n")
		}
		p("\tVZEROUPPER\n\tRET\n\n")
	}
	os.Stdout.WriteString(strings.TrimRight(b.String(), "\n") + "\n")
}
