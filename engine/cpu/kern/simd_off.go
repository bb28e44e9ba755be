//go:build !goexperiment.simd

package kern

// simdBuild: this binary was built without GOEXPERIMENT=simd, so it has the
// plain-Go kernels only.
const simdBuild = false
