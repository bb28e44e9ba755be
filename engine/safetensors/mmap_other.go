//go:build !unix

package safetensors

// mapFile reads the file: systems without mmap pay one copy.
func mapFile(path string) (fileImage, error) {
	return readWhole(path)
}
