package kern

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/cpu"
)

// Kernels describes the kernel sets of this binary on this CPU, for
// `mlx-manager version`, the bench, /health and the start-up log: a binary
// built without GOEXPERIMENT=simd runs the plain-Go loops (several times
// slower) and nothing else would tell the user.
type Kernels struct {
	Active string // the set in use: "avx512", "avx2", "neon" or "go"
	SIMD   bool   // built with GOEXPERIMENT=simd
	Best   string // the fastest set this CPU runs in a build with every set
}

// Info describes the kernels of this binary on this CPU.
func Info() Kernels { return Kernels{Active: active.name, SIMD: simdBuild, Best: cpuBest()} }

// Slow reports a binary that runs the plain-Go loops although the CPU has
// SIMD kernels: it was built without GOEXPERIMENT=simd.
func (k Kernels) Slow() bool { return !k.SIMD && k.Active == "go" && k.Best != "go" }

// String is the one-line description the CLI prints.
func (k Kernels) String() string {
	if k.SIMD {
		return k.Active + " (built with GOEXPERIMENT=simd)"
	}
	return fmt.Sprintf("%s (built without GOEXPERIMENT=simd; this CPU supports %s)", k.Active, k.Best)
}

// Warning says how to get the fast binary, or "" when this one is.
func (k Kernels) Warning() string {
	if !k.Slow() {
		return ""
	}
	return fmt.Sprintf("this binary was built without its SIMD kernels and runs the plain-Go ones, "+
		"several times slower on this %s CPU: build it with `make build`, or "+
		"`GOEXPERIMENT=simd go install github.com/mlx-manager/mlx-manager@latest`", k.Best)
}

// cpuBest is the set the router would pick in a SIMD build: the same CPU
// tests as router_simd_amd64.go, through x/sys/cpu because archsimd exists
// only with the experiment.
func cpuBest() string {
	switch runtime.GOARCH {
	case "amd64":
		x := cpu.X86
		switch {
		case x.HasAVX512F && x.HasAVX512CD && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL:
			return "avx512"
		case x.HasAVX2 && x.HasFMA:
			return "avx2"
		}
	case "arm64":
		return "neon" // Advanced SIMD is part of every arm64 CPU
	}
	return "go"
}

// Sets lists the kernel sets this binary can run on this CPU, slowest first;
// the last one is the default.
func Sets() []string {
	var names []string
	for _, im := range impls() {
		names = append(names, im.name)
	}
	return names
}

// Use makes the named set (one of Sets) the active one, for tests that run
// every set and for comparing sets on one CPU (AVX2 on an AVX-512 machine).
// Kernels read the active set without synchronization: call Use only while
// no kernel runs.
func Use(name string) error {
	for _, im := range impls() {
		if im.name == name {
			active = im
			return nil
		}
	}
	return fmt.Errorf("kernel set %q: not available in this build on this CPU (have %v)", name, Sets())
}
