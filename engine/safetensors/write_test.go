package safetensors

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteRoundTrip(t *testing.T) {
	in := []Tensor{
		{Name: "norm", DType: F16, Shape: []int{3}, Data: []byte{1, 2, 3, 4, 5, 6}},
		{Name: "w", DType: F32, Shape: []int{2, 2}, Data: []byte("0123456789abcdef")},
		{Name: "scalar", DType: U8, Shape: nil, Data: []byte{9}},
		{Name: "q", DType: U32, Shape: []int{1, 1}, Data: []byte{1, 0, 0, 0}},
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteFile(path, in, map[string]string{"format": "mlx"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Metadata()["format"] != "mlx" {
		t.Errorf("metadata %v", f.Metadata())
	}
	for _, want := range in {
		got, err := f.Tensor(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != want.DType || !bytes.Equal(got.Data, want.Data) || len(got.Shape) != len(want.Shape) {
			t.Errorf("%s: got %+v want %+v", want.Name, got, want)
		}
	}
	for _, info := range f.Header().Tensors {
		if (f.Header().DataOffset+info.Offset)%int64(info.DType.Size()) != 0 {
			t.Errorf("%s at file offset %d is not aligned to %d", info.Name, f.Header().DataOffset+info.Offset, info.DType.Size())
		}
	}
	if _, err := f.Tensor("missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing tensor: %v", err)
	}
}

func TestWriteRejects(t *testing.T) {
	cases := []struct {
		name string
		ts   []Tensor
		want string
	}{
		{"short data", []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}, "needs 8 bytes"},
		{"unknown dtype", []Tensor{{Name: "a", DType: "Q4", Shape: []int{1}, Data: make([]byte, 1)}}, "unknown dtype"},
		{"duplicate", []Tensor{{Name: "a", DType: U8, Data: []byte{1}}, {Name: "a", DType: U8, Data: []byte{1}}}, "duplicate"},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: U8, Data: []byte{1}}}, "bad tensor name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, c.ts, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Write error %v, want %q", err, c.want)
			}
		})
	}
}
