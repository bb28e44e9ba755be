package pool

import (
	"fmt"
	"os"
)

// TotalRAM is the machine's physical memory in bytes.
func TotalRAM() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("total ram: %w", err)
	}
	return parseMemInfo(data)
}
