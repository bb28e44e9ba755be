package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// rawFile builds a file image from a header string and n data bytes.
func rawFile(header string, n int) []byte {
	b := make([]byte, 8, 8+len(header)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, n)...)
}

func TestParseValid(t *testing.T) {
	img := rawFile(`{"__metadata__":{"format":"pt"},`+
		`"b":{"dtype":"F16","shape":[2,3],"data_offsets":[16,28]},`+
		`"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},`+
		`"s":{"dtype":"U8","shape":[],"data_offsets":[28,29]},`+
		`"z":{"dtype":"F32","shape":[0,5],"data_offsets":[29,29]}}  `, 29)
	h, err := Parse(img)
	if err != nil {
		t.Fatal(err)
	}
	if h.Metadata["format"] != "pt" {
		t.Errorf("metadata = %v", h.Metadata)
	}
	var names []string
	for _, ti := range h.Tensors {
		names = append(names, ti.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,s,z" {
		t.Errorf("tensors in offset order = %s, want a,b,s,z", got)
	}
	if h.Tensors[1].Size != 12 || h.Tensors[1].Shape[1] != 3 {
		t.Errorf("b = %+v", h.Tensors[1])
	}
	if h.DataSize != 29 || h.DataOffset != int64(len(img)-29) {
		t.Errorf("data area = %d@%d", h.DataSize, h.DataOffset)
	}
}

func TestParseInvalid(t *testing.T) {
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<62)
	cases := []struct {
		name string
		img  []byte
		want string
	}{
		{"empty file", nil, "shorter than the 8-byte"},
		{"prefix only", rawFile("", 0)[:5], "shorter than the 8-byte"},
		{"huge length", hugeLen, "exceeds the"},
		{"length past end", append(rawFile(`{}`, 0)[:8:8], '{'), "truncated"},
		{"not json", rawFile(`hello`, 0), "not a JSON object"},
		{"array", rawFile(`[]`, 0), "not a JSON object"},
		{"unterminated", rawFile(`{"a":{"dtype":"F32"`, 0), "invalid safetensors"},
		{"trailing", rawFile(`{}{}`, 0), "trailing data"},
		{"nul padding", rawFile("{}\x00\x00", 0), "invalid safetensors"},
		{"duplicate", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), "duplicate"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, 1), "unknown dtype"},
		{"missing offsets", rawFile(`{"a":{"dtype":"U8","shape":[1]}}`, 1), "needs dtype"},
		{"entry not object", rawFile(`{"a":3}`, 1), "tensor \"a\""},
		{"negative dim", rawFile(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, 1), "dimension 0"},
		{"fractional dim", rawFile(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, 1), "tensor \"a\""},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8), "needs 8"},
		{"offset past end", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}}`, 8), "outside"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}}`, 8), "outside"},
		{"negative offset", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[-2,0]}}`, 8), "outside"},
		{"three offsets", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2,4]}}`, 8), "3 values"},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`, 8), "does not fit"},
		{"overlap", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, 8), "overlap"},
		{"metadata not strings", rawFile(`{"__metadata__":{"n":1}}`, 0), "__metadata__"},
		{"empty name", rawFile(`{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1), "empty tensor name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.img)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// TestTruncatedEverywhere cuts a valid file at every length: each must fail cleanly.
func TestTruncatedEverywhere(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, []Tensor{
		{Name: "w", DType: F32, Shape: []int{3, 2}, Data: make([]byte, 24)},
		{Name: "b", DType: BF16, Shape: []int{3}, Data: make([]byte, 6)},
	}, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	if _, err := Parse(full); err != nil {
		t.Fatalf("full file: %v", err)
	}
	for n := 0; n < len(full); n++ {
		if _, err := Parse(full[:n]); err == nil {
			t.Errorf("file cut to %d of %d bytes parsed", n, len(full))
		}
	}
}
