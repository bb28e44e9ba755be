package enginetest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// StoriesPrompt is "Once upon a time" in stories260K's tokenizer, with BOS.
var StoriesPrompt = []int32{1, 403, 407, 261, 378}

// StoriesDir is shared/models/stories260K beside the repository, or "" when absent.
func StoriesDir() string {
	dir := filepath.Join(testenv.SharedDir(), "models", "stories260K")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		return ""
	}
	return dir
}

// Stories is StoriesDir for a test that needs the model: it skips the test,
// with a message, when shared/models is absent, and fails in CI (testenv.Need).
func Stories(tb testing.TB) string {
	tb.Helper()
	dir := StoriesDir()
	testenv.Need(tb, dir != "", "shared/models/stories260K beside the repository (../shared/models)")
	return dir
}

// RunStories generates greedily from StoriesPrompt with the real stories260K
// model: the runner must stop by itself on id 1 or 2 within 512 tokens, agree
// with the reference's logits at every step (float32 tolerance) and choose the
// reference's token wherever the reference does not hesitate.
func RunStories(t *testing.T, newRunner func(*model.Model) (model.Runner, error)) {
	dir := Stories(t)
	ctx := context.Background()
	m, err := model.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e, err := newEnv(m, newRunner)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close(t)
	p, err := e.pair(512)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	got, ref, err := p.forward(ctx, "prompt", StoriesPrompt, e.tol)
	if err != nil {
		t.Fatal(err)
	}
	var story []int32
	for step := 0; ; step++ {
		if err := sameChoice(step, got, ref, e.tol); err != nil {
			t.Fatalf("%v after %v", err, story)
		}
		next := int32(argmax(got))
		if slices.Contains([]int32{1, 2}, next) {
			t.Logf("stopped on id %d after %d tokens", next, len(story))
			return
		}
		story = append(story, next)
		if p.got.Len() >= 512 {
			t.Fatalf("no end of story within 512 tokens: %v", story)
		}
		if got, ref, err = p.forward(ctx, "story token", []int32{next}, e.tol); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
}

// ReferenceRunner adapts reference.NewRunner to RunAll's constructor type.
func ReferenceRunner(m *model.Model) (model.Runner, error) { return reference.NewRunner(m), nil }
