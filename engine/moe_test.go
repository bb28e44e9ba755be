package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestMoEEstimate: a mixture of experts keeps every expert resident, so the
// pool's estimate and the library's parameter count include all of them,
// not the few a token reads.
func TestMoEEstimate(t *testing.T) {
	spec := modeltest.Spec{Arch: "qwen3moe", Experts: 8, TopK: 2, Stacked: true}
	dir := modeltest.New(t, spec)
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	est, err := estimateBytes(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if est < st.Size() {
		t.Errorf("estimate %d is less than the %d bytes of weights", est, st.Size())
	}
	// 2 layers of 8 experts of 3 (64, 64) matrices, F32.
	experts := int64(2 * 8 * 3 * 64 * 64)
	info := DescribeConfig("tiny-moe", raw)
	if !info.Supported || info.Parameters < experts || info.Parameters*4 > st.Size() {
		t.Errorf("%+v: want more than the experts' %d parameters and at most the file's %d bytes / 4", info, experts, st.Size())
	}
}

// TestMoERealConfigDescribed: Qwen3-30B-A3B is described as the 30.5B model it is.
func TestMoERealConfigDescribed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("model", "testdata", "configs", "qwen3-30b-a3b.json"))
	if err != nil {
		t.Fatal(err)
	}
	info := DescribeConfig("Qwen/Qwen3-30B-A3B", raw)
	if !info.Supported || info.Parameters < 30.4e9 || info.Parameters > 30.6e9 {
		t.Errorf("%+v", info)
	}
}
