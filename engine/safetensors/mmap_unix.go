//go:build unix

package safetensors

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile gives the whole file read-only: on Linux read into anonymous huge
// pages where that applies (readHuge says why), otherwise mapped, so that
// weights are read at memory bandwidth straight from the page cache and
// several loads of one file share its pages.
func mapFile(path string) (fileImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileImage{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileImage{}, err
	}
	size := st.Size()
	if !st.Mode().IsRegular() {
		return fileImage{}, fmt.Errorf("%w: not a regular file", ErrInvalid)
	}
	if size < 8 {
		// Nothing to map (mmap of 0 bytes fails); Parse reports the short file.
		return readWhole(path)
	}
	if int64(int(size)) != size {
		return fileImage{}, fmt.Errorf("file of %d bytes is too large to map", size)
	}
	if img, ok, err := readHuge(f, size); ok || err != nil {
		return img, err
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fileImage{}, fmt.Errorf("mmap: %w", err)
	}
	adviseHuge(b)
	return fileImage{data: b, release: func() error { return unix.Munmap(b) }}, nil
}
