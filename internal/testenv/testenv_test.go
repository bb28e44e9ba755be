package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRequireAll(t *testing.T) {
	t.Setenv(RequireAllVar, "1")
	if !RequireAll() {
		t.Fatal("RequireAll is false with the variable set to 1")
	}
	t.Setenv(RequireAllVar, "")
	if RequireAll() {
		t.Fatal("RequireAll is true with the variable empty")
	}
}

func TestNeedPresent(t *testing.T) {
	t.Setenv(RequireAllVar, "1")
	Need(t, true, "always there") // must neither skip nor fail
}

func TestRepoDir(t *testing.T) {
	root, err := RepoDir()
	if err != nil {
		t.Fatal(err)
	}
	// This test runs in internal/testenv, two folders below the root.
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "repo.go")); err != nil {
		t.Fatalf("RepoDir %s is not the repository root: %v", root, err)
	}
	if got, want := SharedDir(), filepath.Join(root, "..", "shared"); got != want {
		t.Fatalf("SharedDir = %q, want %q", got, want)
	}
}

func TestRepoDirOutside(t *testing.T) {
	t.Chdir(t.TempDir())
	if root, err := RepoDir(); err == nil {
		t.Fatalf("RepoDir found %s above a temporary folder", root)
	}
}
