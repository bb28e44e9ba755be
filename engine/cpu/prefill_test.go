package cpu

import (
	"fmt"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestLongPromptMatchesReference: prompts long enough that attention runs
// as products (kern's attngemm.go, 16 queries and more) give the reference
// executor's logits, in one chunk and in chunks that start past position 0,
// then decode on from there; with a float32 and a half cache, grouped and
// per-head-normed (Qwen3) attention, and a window, which keeps the
// per-query path.
func TestLongPromptMatchesReference(t *testing.T) {
	long := make([]int32, 40)
	for i := range long {
		long[i] = int32(3 + (i*37)%120)
	}
	cases := []struct {
		spec modeltest.Spec
		opts Options
	}{
		{modeltest.Spec{}, Options{KVF32: true, FloatActivations: true}},
		{modeltest.Spec{}, Options{KVF32: true, FloatActivations: true, PrefillChunk: 17}},
		{modeltest.Spec{Arch: "qwen3"}, Options{KVF16: true}},
		{modeltest.Spec{Arch: "mistral", SlidingWindow: 9}, Options{KVF32: true, FloatActivations: true}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/chunk%d/kv16=%v", c.spec.Name(), c.opts.PrefillChunk, c.opts.halfKV()), func(t *testing.T) {
			matchReference(t, c.spec, c.opts, long, 64, 3)
		})
	}
}
