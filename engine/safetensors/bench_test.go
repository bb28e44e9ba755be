package safetensors

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkOpen measures mapping and validating a file with the tensor count of
// a 32-layer model (about 300 tensors), which is what a model load pays per shard.
func BenchmarkOpen(b *testing.B) {
	var ts []Tensor
	for i := range 300 {
		ts = append(ts, Tensor{Name: fmt.Sprintf("model.layers.%d.mlp.up_proj.weight", i), DType: BF16, Shape: []int{64, 64}, Data: make([]byte, 64*64*2)})
	}
	path := filepath.Join(b.TempDir(), "model.safetensors")
	if err := WriteFile(path, ts, map[string]string{"format": "pt"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Tensor("model.layers.7.mlp.up_proj.weight"); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
