package hub

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidRepoID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"mlx-community/Llama-3.2-1B-Instruct-4bit", true},
		{"a/b", true},
		{"Org_1/name.v2", true},
		{"gpt2", false},
		{"", false},
		{"a/b/c", false},
		{"../etc", false},
		{"org/..", false},
		{"org/a..b", false},
		{"org/name.", false},
		{".org/name", false},
		{"org/-name", false},
		{"org/na me", false},
		{"org\\name", false},
		{"org/name\x00", false},
		{strings.Repeat("a", 150) + "/" + strings.Repeat("b", 150), false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := ValidRepoID(tt.id); got != tt.want {
				t.Errorf("ValidRepoID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestCheckFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"config.json", true},
		{"original/params.json", true},
		{"a/b/c/model-00001-of-00002.safetensors", true},
		{"..json", true},
		{"", false},
		{"..", false},
		{"../config.json", false},
		{"a/../../config.json", false},
		{"a/./b", false},
		{"/etc/passwd", false},
		{"a\\..\\b", false},
		{"C:/x", false},
		{"a//b", false},
		{"a/", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFileName(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckFileName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrUnsafePath) {
				t.Errorf("error %v does not wrap ErrUnsafePath", err)
			}
		})
	}
}

func TestRepoFolderName(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"mlx-community/Qwen3-0.6B-4bit", "a/b-c--d"} {
		got, ok := repoFromFolderName(repoFolderName(id))
		if !ok || got != id {
			t.Errorf("round trip %q: got %q, %v", id, got, ok)
		}
	}
	for _, dir := range []string{"datasets--a--b", "models--gpt2", "models--..--x", ".locks"} {
		if id, ok := repoFromFolderName(dir); ok {
			t.Errorf("repoFromFolderName(%q) = %q, want rejected", dir, id)
		}
	}
}

// FuzzCheckFileName checks the invariant the cache relies on: an accepted name, joined
// under a snapshot directory, stays inside it.
func FuzzCheckFileName(f *testing.F) {
	for _, s := range []string{"config.json", "a/b.safetensors", "../x", "a/../../b", "/abs", "a\\b", "..", "a/./b", "C:x", "é/ü.json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckFileName(name) != nil {
			return
		}
		root := filepath.FromSlash("/cache/models--a--b/snapshots/0123")
		p := filepath.Join(root, filepath.FromSlash(name))
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("accepted %q escapes the snapshot: %q", name, p)
		}
		if filepath.ToSlash(rel) != name {
			t.Fatalf("accepted %q is not canonical: joins to %q", name, rel)
		}
	})
}
