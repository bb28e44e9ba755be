package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
)

// Write writes tensors and metadata in safetensors format. Tensors are laid out
// by decreasing element size (then in the given order), and the header is padded
// with spaces to a multiple of 8, so every tensor starts aligned to its element
// size, as the reference implementation does.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	order, err := checkWrite(tensors)
	if err != nil {
		return err
	}
	var js bytes.Buffer
	js.WriteByte('{')
	if metadata != nil {
		m, err := json.Marshal(metadata)
		if err != nil {
			return fmt.Errorf("write safetensors: metadata: %w", err)
		}
		js.WriteString(`"__metadata__":`)
		js.Write(m)
	}
	var off int64
	for i, t := range order {
		if i > 0 || metadata != nil {
			js.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		shape, _ := json.Marshal(t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		js.Write(name)
		fmt.Fprintf(&js, `:{"dtype":%s,"shape":%s,"data_offsets":[%d,%d]}`,
			strconv.Quote(string(t.DType)), shape, off, off+int64(len(t.Data)))
		off += int64(len(t.Data))
	}
	js.WriteByte('}')
	for js.Len()%8 != 0 {
		js.WriteByte(' ')
	}
	bw := bufio.NewWriter(w)
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(js.Len()))
	// bufio errors are sticky: the first failed write is reported by Flush.
	_, _ = bw.Write(prefix[:])
	_, _ = bw.Write(js.Bytes())
	for _, t := range order {
		_, _ = bw.Write(t.Data)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// WriteFile writes a safetensors file at path.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, tensors, metadata); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkWrite validates tensors and returns them in layout order.
func checkWrite(tensors []Tensor) ([]Tensor, error) {
	seen := map[string]bool{}
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("write safetensors: bad tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("write safetensors: duplicate tensor %q", t.Name)
		}
		seen[t.Name] = true
		elem := t.DType.Size()
		if elem == 0 {
			return nil, fmt.Errorf("write safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		n := int64(elem)
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("write safetensors: tensor %q: negative dimension in %v", t.Name, t.Shape)
			}
			n *= int64(d)
		}
		if n != int64(len(t.Data)) {
			return nil, fmt.Errorf("write safetensors: tensor %q: %s %v needs %d bytes, have %d", t.Name, t.DType, t.Shape, n, len(t.Data))
		}
	}
	order := append([]Tensor(nil), tensors...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].DType.Size() > order[j].DType.Size() })
	return order, nil
}
