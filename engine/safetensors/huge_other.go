//go:build unix && !linux

package safetensors

// adviseHuge has nothing to ask for outside Linux: other systems pick their
// page sizes themselves (Apple Silicon's are 16 KiB).
func adviseHuge([]byte) {}
