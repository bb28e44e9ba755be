package safetensors

import (
	"errors"
	"fmt"
	"os"
	"sort"
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
	image  []byte // the whole file: mapped, or read on systems without mmap
	byName map[string]int
	unmap  func() error
}

// Open maps the file at path and validates its header.
func Open(path string) (*File, error) {
	image, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	h, err := Parse(image)
	if err != nil {
		_ = unmap()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := &File{path: path, header: h, image: image, unmap: unmap, byName: make(map[string]int, len(h.Tensors))}
	for i, t := range h.Tensors {
		f.byName[t.Name] = i
	}
	return f, nil
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

// readWhole is the portable way to get a file image.
func readWhole(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
