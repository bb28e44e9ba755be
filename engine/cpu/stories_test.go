package cpu

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

func storiesDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	// engine/cpu → repository root → its sibling shared/models.
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "models", "stories260K")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("stories260K not available at %s: %v", dir, err)
	}
	return dir
}

// TestStories decodes greedily with the real trained stories260K (hidden
// 64, intermediate 172: the kernels' tails) and follows the reference token
// by token: every greedy choice must be the reference's, unless the
// reference's own top two logits are a hair apart. The story must end by
// itself (on BOS, id 1) as the model was trained to.
func TestStories(t *testing.T) {
	m, err := model.Open(context.Background(), storiesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	for _, opts := range []Options{{}, {KVF16: true, Threads: 1, PrefillChunk: 2}} {
		got := newSeq(t, newRunner(t, m, opts), 512)
		want := newSeq(t, reference.NewRunner(m), 512)
		step := []int32{1, 403, 407, 261, 378} // "Once upon a time"
		var story []int32
		for got.Len() < 512 {
			g, err := got.Forward(ctx, step)
			if err != nil {
				t.Fatal(err)
			}
			w, err := want.Forward(ctx, step)
			if err != nil {
				t.Fatal(err)
			}
			next := argmax(g)
			if r := argmax(w); next != r && w[r]-w[next] > 1e-3 {
				t.Fatalf("token %d: chose %d, reference %d by %v", len(story), next, r, w[r]-w[next])
			}
			if slices.Contains(m.StopTokens(), next) {
				break
			}
			story = append(story, int32(next))
			step = []int32{int32(next)}
		}
		if got.Len() >= 512 {
			t.Fatalf("%+v: the story did not end within 512 tokens", opts)
		}
		if len(story) < 50 {
			t.Errorf("%+v: story of only %d tokens", opts, len(story))
		}
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
