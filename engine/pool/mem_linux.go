package pool

import (
	"fmt"

	"github.com/mlx-manager/mlx-manager/internal/meminfo"
)

// TotalRAM is the machine's physical memory in bytes.
func TotalRAM() (int64, error) {
	n, err := meminfo.Read("MemTotal")
	if err != nil {
		return 0, fmt.Errorf("total ram: %w", err)
	}
	return n, nil
}
