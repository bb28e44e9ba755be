//go:build goexperiment.simd && amd64

package kern

// canWarm: this build can prefetch (warm.go).
const canWarm = true

// prefetchRange asks the cache for the lines of [p, p+n).
func prefetchRange(p uintptr, n int)
