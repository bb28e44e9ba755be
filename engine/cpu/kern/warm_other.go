//go:build !goexperiment.simd || !amd64

package kern

// canWarm: warming was measured on amd64 only (engine/cpu/design.md), so
// other builds do not publish warm sets.
const canWarm = false

func prefetchRange(p uintptr, n int) {}
