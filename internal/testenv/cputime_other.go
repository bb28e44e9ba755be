//go:build !unix

package testenv

import "time"

// CPUTime is not measured here: benchmarks then leave out their CPU figures.
func CPUTime() (d time.Duration, ok bool) { return 0, false }
