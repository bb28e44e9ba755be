package safetensors

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary file images to the header parser. Whatever it
// accepts must describe byte ranges that really lie inside the image.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, []Tensor{
		{Name: "model.embed_tokens.weight", DType: F16, Shape: []int{4, 2}, Data: make([]byte, 16)},
		{Name: "q", DType: U32, Shape: []int{2, 1}, Data: make([]byte, 8)},
		{Name: "s", DType: BF16, Shape: []int{2, 1}, Data: make([]byte, 4)},
	}, map[string]string{"format": "mlx"})
	f.Add(buf.Bytes())
	f.Add(rawFile(`{}`, 0))
	f.Add(rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, 8))
	f.Add(rawFile(`{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`, 8))
	f.Add(rawFile(`{"__metadata__":{"format":"pt"},"x":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}`, 1))
	f.Fuzz(func(t *testing.T, img []byte) {
		h, err := Parse(img)
		if err != nil {
			return
		}
		var end int64
		for _, info := range h.Tensors {
			n := int64(info.DType.Size())
			for _, d := range info.Shape {
				n *= int64(d)
			}
			if n != info.Size {
				t.Fatalf("%s: size %d, shape says %d", info.Name, info.Size, n)
			}
			if info.Offset < 0 || h.DataOffset+info.Offset+info.Size > int64(len(img)) {
				t.Fatalf("%s: range outside the image", info.Name)
			}
			if info.Size > 0 {
				if info.Offset < end {
					t.Fatalf("%s overlaps", info.Name)
				}
				end = info.Offset + info.Size
			}
		}
	})
}
