//go:build goexperiment.simd

package kern

// simdBuild: this binary was built with GOEXPERIMENT=simd.
const simdBuild = true
