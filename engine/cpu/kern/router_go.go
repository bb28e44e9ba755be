//go:build !goexperiment.simd || !(amd64 || arm64)

package kern

// impls lists every kernel set usable in this build on this CPU; without the
// SIMD experiment (or off amd64 and arm64) that is the plain-Go set only.
func impls() []*impl { return []*impl{goImpl} }
