// Package kern holds the numeric kernels of the native CPU executor: matrix
// × vector products for decode and matrix × matrix products for prefill over
// weights in their stored form (F32, F16, BF16, MLX affine 8- and 4-bit),
// plus RMSNorm, softmax, SiLU, RoPE, attention over a KV cache and argmax.
//
// Each inner loop exists as a plain-Go version (always built) and, with
// GOEXPERIMENT=simd on amd64, as AVX-512 and AVX2 versions using
// simd/archsimd (and, for the AVX2 decode loops, assembly: avx2_asm.go); a
// router picks the best set the CPU supports at init. Every set is tested
// against naive float64 references (ref_test.go) and fuzzed. Info describes
// the sets of the binary and the CPU, so that a build without the
// experiment (the plain-Go loops only) can say so.
//
// Work is split across a Pool of persistent workers; an Exec holds one
// caller's scratch memory so that steady-state calls do not allocate.
//
// Who may import me: engine/cpu, engine/bench, app and their tests.
// app reads Info for the version, bench and health output. I import the
// standard library and golang.org/x/sys/cpu.
package kern
