package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// sharedModels is ../shared/models seen from the repository root.
func sharedModels(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testenv.SharedDir(), "models")
	if _, err := os.Stat(dir); err != nil {
		testenv.Need(t, false, fmt.Sprintf("shared models not available at %s: %v", dir, err))
	}
	return dir
}

func TestOpenStories(t *testing.T) {
	dir := filepath.Join(sharedModels(t), "stories260K")
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	emb, err := s.Tensor("model.embed_tokens.weight")
	if err != nil {
		t.Fatal(err)
	}
	if emb.DType != F32 || len(emb.Shape) != 2 || emb.Shape[0] != 512 || emb.Shape[1] != 64 {
		t.Errorf("embed_tokens = %s %v", emb.DType, emb.Shape)
	}
	if s.Has("lm_head.weight") {
		t.Error("stories260K has tied embeddings, yet lm_head.weight is present")
	}
	if n := len(s.Names()); n != 1+5*9+1 {
		t.Errorf("%d tensors, want %d", n, 1+5*9+1)
	}
}

func writeShard(t *testing.T, dir, name string, ts []Tensor) {
	t.Helper()
	if err := WriteFile(filepath.Join(dir, name), ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
}

func writeIndex(t *testing.T, dir string, m map[string]string) {
	t.Helper()
	b, _ := json.Marshal(Index{Metadata: map[string]any{"total_size": 8}, WeightMap: m})
	if err := os.WriteFile(filepath.Join(dir, IndexFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirSharded(t *testing.T) {
	a := Tensor{Name: "a", DType: F32, Shape: []int{1}, Data: []byte{0, 0, 128, 63}}
	b := Tensor{Name: "b", DType: U8, Shape: []int{4}, Data: []byte{1, 2, 3, 4}}
	t.Run("index", func(t *testing.T) {
		dir := t.TempDir()
		writeShard(t, dir, "model-00001-of-00002.safetensors", []Tensor{a})
		writeShard(t, dir, "model-00002-of-00002.safetensors", []Tensor{b})
		writeShard(t, dir, "stray.safetensors", []Tensor{a}) // not in the index: ignored
		writeIndex(t, dir, map[string]string{"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"})
		s, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if len(s.Files()) != 2 || s.Size() != 8 {
			t.Errorf("%d files, %d bytes", len(s.Files()), s.Size())
		}
		got, err := s.Tensor("b")
		if err != nil || string(got.Data) != "\x01\x02\x03\x04" {
			t.Errorf("b = %v, %v", got, err)
		}
	})
	failures := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"wrong shard", func(t *testing.T, dir string) {
			writeShard(t, dir, "one.safetensors", []Tensor{a})
			writeShard(t, dir, "two.safetensors", []Tensor{b})
			writeIndex(t, dir, map[string]string{"a": "two.safetensors", "b": "two.safetensors"})
		}, "does not contain it"},
		{"path traversal", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a": "../x.safetensors"})
		}, "bad shard name"},
		{"missing shard", func(t *testing.T, dir string) {
			writeIndex(t, dir, map[string]string{"a": "gone.safetensors"})
		}, "no such file"},
		{"duplicate tensor", func(t *testing.T, dir string) {
			writeShard(t, dir, "one.safetensors", []Tensor{a})
			writeShard(t, dir, "two.safetensors", []Tensor{a, b})
		}, "is in both"},
		{"bad index json", func(t *testing.T, dir string) {
			_ = os.WriteFile(filepath.Join(dir, IndexFile), []byte("{"), 0o644)
		}, "parse model.safetensors.index.json"},
		{"no files", func(t *testing.T, dir string) {}, "no *.safetensors"},
	}
	for _, c := range failures {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(t, dir)
			s, err := OpenDir(dir)
			if err == nil {
				s.Close()
				t.Fatal("OpenDir succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestOpenTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	writeShard(t, dir, "model.safetensors", []Tensor{{Name: "w", DType: F32, Shape: []int{64}, Data: make([]byte, 256)}})
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-1); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "data area") {
		t.Errorf("truncated file: %v", err)
	}
	if err := os.Truncate(path, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrInvalid) {
		t.Errorf("3-byte file: %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("opening a directory succeeded")
	}
}
