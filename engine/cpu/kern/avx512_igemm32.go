//go:build goexperiment.simd && amd64

package kern

// igemm12x32 is igemm12x16 over two panels of tokens at once (the panel
// at xp and the one xps int16 values further, their dx and Σx at xm and xms
// floats further), accumulating the 12×32 tile at c (panel 0's tokens in
// c[r*ldc+0..15], panel 1's in c[r*ldc+16..31]): each broadcast pair of
// codes feeds two VPDPWSSD. The same integer sums and the same float
// operations in the same order per row and token as two calls of
// igemm12x16, hence the same bits (avx512_igemm32_amd64.s).
//
//go:noescape
func igemm12x32(c *float32, ldc int, w *int16, ldw int, sb *float32, xp *int16, xps int, xm *float32, xms int, groups, gs int, first bool)
