package pool

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// TotalRAM is the machine's physical memory in bytes.
func TotalRAM() (int64, error) {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0, fmt.Errorf("total ram: sysctl hw.memsize: %w", err)
	}
	return int64(n), nil
}
