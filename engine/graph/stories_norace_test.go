//go:build !race

package graph

import (
	"strings"
	"testing"
)

// TestStoriesGreedy runs a whole story through the graph executor. Its
// numerics are single-goroutine and about twenty times slower under the race
// detector, so it lives in a !race file: make test runs it in its non-race
// pass (test-norace), and enginetest's stories260K check covers the race pass.
func TestStoriesGreedy(t *testing.T) {
	m, r := openStories(t)
	if got := r.Backend(); got != "gomlx/simplego" {
		t.Errorf("Backend() = %q, want gomlx/simplego", got)
	}
	seq, err := r.NewSequence(m.Config.MaxPositionEmbeddings)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	limit := m.Config.MaxPositionEmbeddings - len(storiesPrompt)
	out := greedy(t, seq, storiesPrompt, []int{1, 2}, limit)
	text := decodePieces(t, m.Dir, out)
	t.Logf("%d tokens: %s", len(out), text)
	if last := out[len(out)-1]; last != 1 && last != 2 {
		t.Errorf("generation did not stop on id 1 or 2 within %d tokens", limit)
	}
	if !strings.Contains(text, "Lily") {
		t.Errorf("story does not mention Lily: %q", text)
	}
	if seq.Len() != len(storiesPrompt)+len(out)-1 {
		t.Errorf("Len = %d, want %d", seq.Len(), len(storiesPrompt)+len(out)-1)
	}
}
