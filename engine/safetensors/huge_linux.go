package safetensors

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/mlx-manager/mlx-manager/internal/meminfo"
)

// hugePage is the size of a transparent huge page on the CPUs we run on.
const hugePage = 2 << 20

// adviseHuge asks for 2 MiB pages under the mapping. Decode streams every
// weight once per token, and with 4 KiB pages it takes a TLB miss every 4 KiB
// (a two-level walk under a hypervisor): with the advice, pages the kernel
// reads in afterwards come as 2 MiB folios mapped by one entry each.
// Measured on the 0.5B F32 model in a VM (engine/cpu/design.md): decode
// 16-21 → 20-23.5 tok/s with the page cache dropped before each load. Pages
// already cached stay as they are, and a kernel without file huge pages
// refuses the advice, which changes nothing, so the error is ignored.
func adviseHuge(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}

// readHuge reads the file into anonymous memory advised MADV_HUGEPAGE,
// read-only once filled, or reports false (having left nothing behind) where
// that does not apply, to map the file instead: files under one huge page, kernels without
// transparent huge pages, or a file larger than the memory available (a
// mapping pages it in and out; a copy would be killed).
//
// Why not the mapping: the page cache keeps a file in whatever folios it
// was read or written in. A model just downloaded, or read before, sits
// mostly in 4 KiB folios (MADV_HUGEPAGE only shapes pages read in after
// it, and MADV_COLLAPSE refuses file mappings on the kernels measured), so
// decode's speed depended on the cache's history: the 0.5B Q8 model read
// 75% of the STREAM triad with 21% of its cached pages huge, 82-84% after
// they were dropped and read back huge. A copy in anonymous huge pages is
// the same on every load, at the price of one read of the file (measured in
// engine/cpu/design.md, "Weights held in anonymous huge pages": the bench's
// median fraction F32 72 → 84%, Q8 78 → 83%, Q4 73 → 79%).
func readHuge(f *os.File, size int64) (fileImage, bool, error) {
	if size < hugePage || !thpEnabled() || !fits(size) {
		return fileImage{}, false, nil
	}
	// A whole number of huge pages: the kernel aligns such anonymous
	// mappings to 2 MiB, which a length in between may not get (and then
	// none of it is huge).
	mem, err := unix.Mmap(-1, 0, int(size+hugePage-1)&^(hugePage-1), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fileImage{}, false, nil
	}
	if unix.Madvise(mem, unix.MADV_HUGEPAGE) != nil {
		_ = unix.Munmap(mem)
		return fileImage{}, false, nil
	}
	b := mem[:size:size]
	if _, err := f.ReadAt(b, 0); err != nil { // fills b or fails
		_ = unix.Munmap(mem)
		return fileImage{}, false, fmt.Errorf("read: %w", err)
	}
	if err := unix.Mprotect(mem, unix.PROT_READ); err != nil {
		_ = unix.Munmap(mem)
		return fileImage{}, false, fmt.Errorf("mprotect: %w", err)
	}
	return fileImage{data: b, release: func() error { return unix.Munmap(mem) }, held: int64(len(mem))}, true, nil
}

// fits reports whether size bytes can be taken without swapping
// (MemAvailable); false where that is not known.
func fits(size int64) bool {
	n, err := meminfo.Read("MemAvailable")
	return err == nil && size <= n
}

// thpEnabled reports whether the kernel hands out transparent huge pages to
// memory advised MADV_HUGEPAGE ("always" or "madvise", not "never").
func thpEnabled() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !bytes.Contains(b, []byte("[never]"))
}
