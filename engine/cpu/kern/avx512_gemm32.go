//go:build goexperiment.simd && amd64

package kern

// gemm12x32 is gemm12x16 over two panels of tokens at once (the panel at
// xp and the one xps floats further), accumulating the 12×32 tile at c
// (panel 0's tokens in c[r*ldc+0..15], panel 1's in c[r*ldc+16..31]): each
// broadcast weight feeds two FMAs. The same FMAs in the same order per
// accumulator as two calls of gemm12x16, hence the same bits. pf: the
// kernel may prefetch up to kc·mr·2/3 floats from it (its share of the next
// two panels).
//
//go:noescape
func gemm12x32(c *float32, ldc int, w *float32, ldw int, xp *float32, xps int, kc int, first bool, pf *float32)
