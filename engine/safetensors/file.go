package safetensors

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"unsafe"
)

// ErrNotFound is returned when a tensor name is not in the file or model.
var ErrNotFound = errors.New("tensor not found")

// Tensor is one tensor with its bytes. Data aliases the file's memory: never
// write to it, and do not use it after the File is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// File is an open safetensors file whose header has been validated.
type File struct {
	path   string
	header *Header
	image  []byte // the whole file (mapFile)
	held   int64  // bytes of memory the image holds when it is a copy, resident in full; 0: a mapping
	byName map[string]int
	unmap  func() error
}

// Open loads the file at path (mapFile) and validates its header.
func Open(path string) (*File, error) {
	img, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	h, err := Parse(img.data)
	if err != nil {
		_ = img.release()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := &File{path: path, header: h, image: img.data, held: img.held, unmap: img.release, byName: make(map[string]int, len(h.Tensors))}
	for i, t := range h.Tensors {
		f.byName[t.Name] = i
	}
	return f, nil
}

// Held reports whether the file is a copy in memory, resident in full
// whichever tensors are used, rather than a mapping that pages in what is
// read.
func (f *File) Held() bool { return f.held > 0 }

// holds reports whether b lies in the file's image.
func (f *File) holds(b []byte) bool {
	if len(b) == 0 || len(f.image) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(f.image)))
	return p >= lo && p < lo+uintptr(len(f.image))
}

// Path is the file's path as given to Open.
func (f *File) Path() string { return f.path }

// Header is the validated header. Callers must not modify it.
func (f *File) Header() *Header { return f.header }

// Metadata is the "__metadata__" map (nil when absent).
func (f *File) Metadata() map[string]string { return f.header.Metadata }

// Names lists the tensor names in sorted order.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.header.Tensors))
	for _, t := range f.header.Tensors {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names
}

// Tensor returns the named tensor, or an error wrapping ErrNotFound.
func (f *File) Tensor(name string) (Tensor, error) {
	i, ok := f.byName[name]
	if !ok {
		return Tensor{}, fmt.Errorf("%s in %s: %w", name, f.path, ErrNotFound)
	}
	info := f.header.Tensors[i]
	start := f.header.DataOffset + info.Offset
	// The header was validated against this very image, so the range is inside it;
	// the three-index slice keeps appends from reaching the next tensor.
	data := f.image[start : start+info.Size : start+info.Size]
	return Tensor{Name: info.Name, DType: info.DType, Shape: info.Shape, Data: data}, nil
}

// Close unmaps the file. Tensor data obtained from it must no longer be used.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap, f.image = nil, nil
	if err != nil {
		return fmt.Errorf("close %s: %w", f.path, err)
	}
	return nil
}

// fileImage is a file's bytes as mapFile gives them.
type fileImage struct {
	data    []byte
	release func() error
	held    int64 // bytes of memory held by a copy (resident in full); 0: a mapping of the page cache
}

// readWhole is the portable way to get a file image.
func readWhole(path string) (fileImage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileImage{}, err
	}
	return fileImage{data: b, release: func() error { return nil }, held: int64(cap(b))}, nil
}
