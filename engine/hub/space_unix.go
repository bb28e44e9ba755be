//go:build unix

package hub

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes available to this user on the file system holding dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	// The conversions are needed: the field types differ between linux and darwin.
	return int64(st.Bavail) * int64(st.Bsize), nil
}
