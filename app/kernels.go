package app

import (
	"log/slog"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
)

// logKernels logs the kernel set the native executor runs, as a warning
// with the way to the fast binary when this one was built without its SIMD
// kernels on a CPU that has them (`go install` and `go build` without
// GOEXPERIMENT=simd give that binary silently otherwise).
func logKernels(log *slog.Logger, k kern.Kernels) {
	if w := k.Warning(); w != "" {
		log.Warn(w, "kernels", k.Active, "cpu", k.Best)
		return
	}
	log.Info("kernels", "set", k.Active, "simd_build", k.SIMD)
}

// healthKernels is the kernel description /health shows.
func healthKernels(k kern.Kernels) *api.Kernels {
	return &api.Kernels{Set: k.Active, SIMDBuild: k.SIMD, CPU: k.Best, Warning: k.Warning()}
}
