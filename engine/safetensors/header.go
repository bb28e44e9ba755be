package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sort"
)

// MaxHeaderSize bounds the JSON header. Real headers are a few hundred kilobytes
// at most; the bound keeps a lying length prefix from driving a huge allocation.
const MaxHeaderSize = 100 << 20

// ErrInvalid marks a file whose bytes do not form a valid safetensors file.
var ErrInvalid = errors.New("invalid safetensors")

// Info describes one tensor of a header.
type Info struct {
	Name   string
	DType  DType
	Shape  []int
	Offset int64 // first byte, relative to the start of the data area
	Size   int64 // bytes: product(Shape) × DType.Size()
}

// Header is a parsed header that has been validated against its data area.
type Header struct {
	Tensors    []Info            // sorted by Offset
	Metadata   map[string]string // the "__metadata__" map; nil when absent
	DataOffset int64             // where the data area starts in the file: 8 + header length
	DataSize   int64             // bytes in the data area
}

// Parse reads and validates the header of a whole file image.
func Parse(file []byte) (*Header, error) {
	return ReadHeader(bytes.NewReader(file), int64(len(file)))
}

// ReadHeader reads and validates the header of a file of fileSize bytes.
func ReadHeader(r io.ReaderAt, fileSize int64) (*Header, error) {
	if fileSize < 8 {
		return nil, fmt.Errorf("%w: file of %d bytes is shorter than the 8-byte length prefix", ErrInvalid, fileSize)
	}
	var prefix [8]byte
	if _, err := r.ReadAt(prefix[:], 0); err != nil {
		return nil, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrInvalid, n, MaxHeaderSize)
	}
	if int64(n) > fileSize-8 {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d bytes after the prefix (truncated file?)", ErrInvalid, n, fileSize-8)
	}
	js := make([]byte, n)
	if _, err := r.ReadAt(js, 8); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	h, err := ParseHeader(js, fileSize-8-int64(n))
	if err != nil {
		return nil, err
	}
	h.DataOffset = 8 + int64(n)
	return h, nil
}

// rawEntry is one tensor entry as written; pointers tell absent from zero.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader parses the JSON header js and validates it against a data area of
// dataSize bytes. The returned Header has DataOffset set to 8+len(js).
func ParseHeader(js []byte, dataSize int64) (*Header, error) {
	if len(bytes.TrimLeft(js, " \t\r\n")) == 0 || bytes.TrimLeft(js, " \t\r\n")[0] != '{' {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	if _, err := dec.Token(); err != nil { // the opening brace, checked above
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	h := &Header{DataOffset: 8 + int64(len(js)), DataSize: dataSize}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: header: key %v is not a string", ErrInvalid, tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: header: duplicate entry %q", ErrInvalid, name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&h.Metadata); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrInvalid, err)
			}
			continue
		}
		var raw rawEntry
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		info, err := checkEntry(name, raw, dataSize)
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		h.Tensors = append(h.Tensors, info)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: header: trailing data after the JSON object", ErrInvalid)
	}
	if err := checkOverlap(h.Tensors); err != nil {
		return nil, err
	}
	return h, nil
}

func checkEntry(name string, raw rawEntry, dataSize int64) (Info, error) {
	if name == "" {
		return Info{}, errors.New("empty tensor name")
	}
	if raw.DType == nil || raw.Shape == nil || raw.DataOffsets == nil {
		return Info{}, errors.New("entry needs dtype, shape and data_offsets")
	}
	info := Info{Name: name, DType: DType(*raw.DType)}
	elem := info.DType.Size()
	if elem == 0 {
		return Info{}, fmt.Errorf("unknown dtype %q", *raw.DType)
	}
	// Multiply with an overflow check; a product above dataSize can never fit anyway.
	size := uint64(elem)
	info.Shape = make([]int, len(*raw.Shape))
	for i, d := range *raw.Shape {
		if d < 0 || int64(int(d)) != d {
			return Info{}, fmt.Errorf("dimension %d is %d", i, d)
		}
		info.Shape[i] = int(d)
		hi, lo := bits.Mul64(size, uint64(d))
		if hi != 0 || lo > uint64(dataSize) {
			return Info{}, fmt.Errorf("shape %v does not fit in the %d-byte data area", *raw.Shape, dataSize)
		}
		size = lo
	}
	if len(info.Shape) == 0 && size > uint64(dataSize) {
		return Info{}, fmt.Errorf("scalar does not fit in the %d-byte data area", dataSize)
	}
	offs := *raw.DataOffsets
	if len(offs) != 2 {
		return Info{}, fmt.Errorf("data_offsets has %d values, want 2", len(offs))
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < begin || end > dataSize {
		return Info{}, fmt.Errorf("data_offsets [%d, %d] outside the %d-byte data area", begin, end, dataSize)
	}
	if uint64(end-begin) != size {
		return Info{}, fmt.Errorf("data_offsets [%d, %d] span %d bytes, but %s %v needs %d", begin, end, end-begin, info.DType, info.Shape, size)
	}
	info.Offset, info.Size = begin, end-begin
	return info, nil
}

// checkOverlap sorts tensors by offset and rejects overlapping byte ranges.
// Gaps are allowed: they waste space but cannot make a tensor read another's bytes.
func checkOverlap(ts []Info) error {
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Offset != ts[j].Offset {
			return ts[i].Offset < ts[j].Offset
		}
		return ts[i].Name < ts[j].Name
	})
	var prev *Info
	for i := range ts {
		t := &ts[i]
		if t.Size == 0 {
			continue
		}
		if prev != nil && t.Offset < prev.Offset+prev.Size {
			return fmt.Errorf("%w: tensors %q and %q overlap", ErrInvalid, prev.Name, t.Name)
		}
		prev = t
	}
	return nil
}
