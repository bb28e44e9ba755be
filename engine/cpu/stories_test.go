//go:build !race

// Numeric only (stories260K's greedy story, one sequence at a time), ten to
// fifty times slower under the race detector: make test-norace runs these
// without it.

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
// kernels' tails) with one thread and prefill in chunks of 2, next to the
// default settings. (The conformance suite checks the story token by token
// against the reference.) Both stories must end by themselves (on BOS, id
// 1) as the model was trained to.
func TestStories(t *testing.T) {
	m, err := model.Open(context.Background(), enginetest.Stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, opts := range []Options{{}, {KVF32: true, Threads: 1, PrefillChunk: 2}} {
		if story := tell(t, m, opts); len(story) < 50 {
			t.Errorf("%+v: story of only %d tokens", opts, len(story))
		}
	}
}

// kvF16Bound is how far a half-precision KV cache may move stories260K's
// logits, as a fraction of their RMS. Halves carry 11 significant bits
// (2⁻¹² relative rounding per cached value), which five layers amplify:
// the measured worst over the 341-token story is 8e-3 (AVX2, Dec 2026),
// most steps 1e-3.
const kvF16Bound = 2e-2

// TestKVF16 feeds stories260K the same story with a half-precision and a
// float32 KV cache: the greedy tokens must be the same at every step and the
// logits within kvF16Bound of their RMS.
func TestKVF16(t *testing.T) {
	m, err := model.Open(context.Background(), enginetest.Stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	half := newSeq(t, newRunner(t, m, Options{KVF16: true}), 512)
	full := newSeq(t, newRunner(t, m, Options{KVF32: true}), 512)
	step := []int32{1, 403, 407, 261, 378}
	worst := 0.0
	for i := 0; full.Len() < 512; i++ {
		h, err := half.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		f, err := full.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, relErr(h, f))
		if e := relErr(h, f); e > kvF16Bound {
			t.Fatalf("step %d: half-precision cache moves the logits by %.3g of their RMS, want ≤ %g", i, e, kvF16Bound)
		}
		next := argmax(f)
		if argmax(h) != next {
			t.Fatalf("step %d: greedy token %d with a half cache, %d with a float32 one", i, argmax(h), next)
		}
		if slices.Contains(m.StopTokens(), next) {
			break
		}
		step = []int32{int32(next)}
	}
	t.Logf("%d tokens; worst difference %.2g of the logits' RMS", full.Len(), worst)
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
