package hubtest

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in         string
		start, end int
		ok         bool
	}{
		{"bytes=0-", 0, 9, true},
		{"bytes=4-", 4, 9, true},
		{"bytes=2-5", 2, 5, true},
		{"bytes=2-50", 2, 9, true},
		{"bytes=10-", 0, 0, false},
		{"bytes=5-2", 0, 0, false},
		{"bytes=-3", 0, 0, false},
		{"bytes=0-1,4-5", 0, 0, false},
		{"items=0-", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			start, end, ok := parseRange(tt.in, 10)
			if ok != tt.ok || (ok && (start != tt.start || end != tt.end)) {
				t.Errorf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", tt.in, start, end, ok, tt.start, tt.end, tt.ok)
			}
		})
	}
}

func TestRepoFromDir(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"config.json": "{}", "model.safetensors": "weights", "sub/tokenizer.model": "spm"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := RepoFromDir("org/m", dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range r.Files {
		got[f.Path] = f.LFS
	}
	want := map[string]bool{"config.json": false, "model.safetensors": true, "sub/tokenizer.model": true}
	if !maps.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if _, err := RepoFromDir("org/m", t.TempDir()); err == nil {
		t.Error("empty directory accepted")
	}
}
