//go:build !unix

package safetensors

// mapFile reads the file: systems without mmap pay one copy.
func mapFile(path string) ([]byte, func() error, error) {
	return readWhole(path)
}
