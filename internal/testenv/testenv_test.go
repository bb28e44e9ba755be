package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// TestNoCallerPaths keeps tests from finding files through runtime.Caller or
// runtime.GOROOT: make test builds with -trimpath, where the first names a file
// by its module path and the second may be empty, so the test would look in
// the wrong place and, in CI, fail as if a resource were missing.
func TestNoCallerPaths(t *testing.T) {
	root, err := RepoDir()
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || !(strings.HasSuffix(path, "_test.go") || strings.HasSuffix(filepath.Base(filepath.Dir(path)), "test")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// Spelled in two parts so that this file does not match itself.
		for _, call := range []string{"runtime." + "Caller(", "runtime." + "GOROOT("} {
			if strings.Contains(string(src), call) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s calls %s: find files from the working directory or testenv.RepoDir (make test builds with -trimpath)", rel, call)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
