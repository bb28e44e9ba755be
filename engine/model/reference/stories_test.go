//go:build !race

// stories260K's whole story through the float64 reference, one goroutine:
// make test-norace runs it without the race detector, which made it thirteen
// times slower.

package reference_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

func storiesDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testenv.SharedDir(), "models", "stories260K")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("stories260K not available at %s: %v", dir, err))
	}
	return dir
}

// decode turns ids into text with the tokenizer's vocabulary: enough of
// SentencePiece's decoder (▁ → space, <0xNN> → byte) to read the story.
func decode(t *testing.T, dir string, ids []int32) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	pieces := make([]string, len(tok.Model.Vocab))
	for p, id := range tok.Model.Vocab {
		pieces[id] = p
	}
	var out []byte
	for _, id := range ids {
		p := pieces[id]
		if strings.HasPrefix(p, "<0x") && len(p) == 6 {
			v, _ := strconv.ParseUint(p[3:5], 16, 8)
			out = append(out, byte(v))
			continue
		}
		if p == "<s>" || p == "</s>" {
			continue
		}
		out = append(out, strings.ReplaceAll(p, "▁", " ")...)
	}
	return string(out)
}

// TestStoriesTellsAStory runs the real trained model: a wrong forward pass does
// not produce a coherent story about Lily that ends by itself.
func TestStoriesTellsAStory(t *testing.T) {
	dir := storiesDir(t)
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	seq, err := reference.NewRunner(m).NewSequence(512)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	ctx := context.Background()
	prompt := []int32{1, 403, 407, 261, 378}
	logits, err := seq.Forward(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	var out []int32
	for seq.Len() < 512 {
		next := int32(argmax(logits))
		if slices.Contains(m.StopTokens(), int(next)) {
			break
		}
		out = append(out, next)
		if logits, err = seq.Forward(ctx, []int32{next}); err != nil {
			t.Fatal(err)
		}
	}
	text := decode(t, dir, append(prompt, out...))
	t.Logf("%d tokens: %s", len(out), text)
	if seq.Len() >= 512 {
		t.Fatal("the story did not end within 512 tokens")
	}
	if !strings.HasPrefix(text, " Once upon a time") || !strings.Contains(text, "Lily") {
		t.Errorf("not the expected story: %q", text)
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
