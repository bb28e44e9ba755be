package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// IndexFile is the name of the shard index of a sharded model.
const IndexFile = "model.safetensors.index.json"

// Index is the content of model.safetensors.index.json.
type Index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"` // tensor name → shard file name
}

// Set is every tensor of a model, possibly spread over several files.
type Set struct {
	files  []*File
	byName map[string]*File
}

// OpenDir opens the safetensors files of a model directory: the shards listed by
// model.safetensors.index.json when it exists, otherwise every *.safetensors file
// in dir. A tensor name found in two files is an error.
func OpenDir(dir string) (*Set, error) {
	names, index, err := shardNames(dir)
	if err != nil {
		return nil, err
	}
	s := &Set{byName: map[string]*File{}}
	for _, n := range names {
		f, err := Open(filepath.Join(dir, n))
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		s.files = append(s.files, f)
		for _, t := range f.header.Tensors {
			if other, dup := s.byName[t.Name]; dup {
				_ = s.Close()
				return nil, fmt.Errorf("%w: tensor %q is in both %s and %s", ErrInvalid, t.Name, filepath.Base(other.path), n)
			}
			s.byName[t.Name] = f
		}
	}
	for name, shard := range index.WeightMap {
		f, ok := s.byName[name]
		if !ok || filepath.Base(f.path) != shard {
			_ = s.Close()
			return nil, fmt.Errorf("%w: %s maps %q to %s, which does not contain it", ErrInvalid, IndexFile, name, shard)
		}
	}
	return s, nil
}

// shardNames lists the files to open, sorted, and the parsed index if any.
func shardNames(dir string) ([]string, Index, error) {
	var index Index
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &index); err != nil {
			return nil, index, fmt.Errorf("parse %s: %w", IndexFile, err)
		}
		if len(index.WeightMap) == 0 {
			return nil, index, fmt.Errorf("parse %s: empty weight_map", IndexFile)
		}
		set := map[string]bool{}
		for name, shard := range index.WeightMap {
			// The index is untrusted: it may only name files inside dir.
			if shard == "" || shard != filepath.Base(shard) || strings.ContainsAny(shard, `/\`) || shard == "." || shard == ".." {
				return nil, index, fmt.Errorf("parse %s: tensor %q maps to bad shard name %q", IndexFile, name, shard)
			}
			set[shard] = true
		}
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		return names, index, nil
	case errors.Is(err, os.ErrNotExist):
		matches, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		if err != nil {
			return nil, index, err
		}
		if len(matches) == 0 {
			return nil, index, fmt.Errorf("no *.safetensors files in %s: %w", dir, os.ErrNotExist)
		}
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = filepath.Base(m)
		}
		sort.Strings(names)
		return names, index, nil
	default:
		return nil, index, fmt.Errorf("read %s: %w", IndexFile, err)
	}
}

// Files are the open files, in name order.
func (s *Set) Files() []*File { return s.files }

// Names lists every tensor name, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether the model has a tensor of that name.
func (s *Set) Has(name string) bool {
	_, ok := s.byName[name]
	return ok
}

// Tensor returns the named tensor, or an error wrapping ErrNotFound.
func (s *Set) Tensor(name string) (Tensor, error) {
	f, ok := s.byName[name]
	if !ok {
		return Tensor{}, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	return f.Tensor(name)
}

// Size is the total bytes of tensor data.
func (s *Set) Size() int64 {
	var n int64
	for _, f := range s.files {
		for _, t := range f.header.Tensors {
			n += t.Size
		}
	}
	return n
}

// HeldBytes is the memory of the files held in memory in full (File.Held),
// rounded up to the pages that hold them.
func (s *Set) HeldBytes() int64 {
	var n int64
	for _, f := range s.files {
		n += f.held
	}
	return n
}

// Held reports whether b lies in a file held in memory in full.
func (s *Set) Held(b []byte) bool {
	for _, f := range s.files {
		if f.held > 0 && f.holds(b) {
			return true
		}
	}
	return false
}

// Close closes every file, returning the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.files, s.byName = nil, nil
	return first
}
