//go:build goexperiment.simd && amd64

package kern

// The AVX2 int8 prefill micro-kernel (qint8pack.go), in assembly
// (avx2_qint8_amd64.s): archsimd's forms of VPMADDUBSW and the FMA would
// need register copies that a 4×8 tile with int16 and float accumulators
// cannot spare.

//go:noescape
func i8q4x4x8(c *float32, ldc int, w *byte, ldw int, sb *float32, ldsb int, xp *byte, blocks int, first bool)
