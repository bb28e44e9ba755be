//go:build !linux && !darwin

package pool

import (
	"errors"
	"runtime"
)

// TotalRAM is the machine's physical memory in bytes; unknown on this system,
// so the pool runs without a default budget.
func TotalRAM() (int64, error) {
	return 0, errors.New("total ram: not known on " + runtime.GOOS)
}
