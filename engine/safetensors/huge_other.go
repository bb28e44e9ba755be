//go:build unix && !linux

package safetensors

import "os"

// adviseHuge has nothing to ask for outside Linux: other systems pick their
// page sizes themselves (Apple Silicon's are 16 KiB).
func adviseHuge([]byte) {}

// readHuge applies only on Linux: elsewhere the file is mapped.
func readHuge(*os.File, int64) (fileImage, bool, error) { return fileImage{}, false, nil }
