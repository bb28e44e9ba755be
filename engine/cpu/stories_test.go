package cpu

import (
	"context"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all"
)

// TestStories tells stories260K's story (hidden 64, intermediate 172: the
// kernels' tails) with the half-precision KV cache, one thread and prefill
// in chunks of 2, next to the default settings. (The conformance suite
// checks the default story token by token against the reference.) Both
// stories must end by themselves (on BOS, id 1) as the model was trained to,
// and the half cache, about 1e-3 off, must not change how the story starts.
func TestStories(t *testing.T) {
	m, err := model.Open(context.Background(), enginetest.Stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var stories [2][]int32
	for i, opts := range []Options{{}, {KVF16: true, Threads: 1, PrefillChunk: 2}} {
		stories[i] = tell(t, m, opts)
		if len(stories[i]) < 50 {
			t.Errorf("%+v: story of only %d tokens", opts, len(stories[i]))
		}
	}
	for i := 0; i < 20; i++ {
		if stories[0][i] != stories[1][i] {
			t.Fatalf("token %d: %d with a float32 cache, %d with a half one", i, stories[0][i], stories[1][i])
		}
	}
}

// tell decodes greedily from "Once upon a time" until the model stops.
func tell(t *testing.T, m *model.Model, opts Options) []int32 {
	t.Helper()
	seq := newSeq(t, newRunner(t, m, opts), 512)
	step := []int32{1, 403, 407, 261, 378}
	var story []int32
	for seq.Len() < 512 {
		logits, err := seq.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		next := argmax(logits)
		if slices.Contains(m.StopTokens(), next) {
			return story
		}
		story = append(story, int32(next))
		step = []int32{int32(next)}
	}
	t.Fatalf("%+v: the story did not end within 512 tokens", opts)
	return nil
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
