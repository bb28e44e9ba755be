package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Module is this repository's module path.
const Module = "github.com/mlx-manager/mlx-manager"

// RepoDir is the repository's root folder: the nearest folder at or above the
// working directory whose go.mod declares Module. go test runs each package's
// tests in the package's folder, so this works from any package. Tests find
// ../shared/models and other packages' testdata from here rather than from
// runtime.Caller: make test builds with -trimpath (so that a fresh clone reuses
// the build cache of an earlier one), and there runtime.Caller names a file by
// its module path, not by its folder.
func RepoDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repository root: %w", err)
	}
	for {
		ok, err := declaresModule(filepath.Join(dir, "go.mod"))
		if err != nil {
			return "", fmt.Errorf("repository root: %w", err)
		}
		if ok {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root: no go.mod of %s at or above the working directory", Module)
		}
		dir = parent
	}
}

// SharedDir is ../shared beside the repository (shared/models: stories260K and
// the shared tokenizers), or "" when the repository root is not found. Whether
// the folder exists is for the caller to check (with Need).
func SharedDir() string {
	root, err := RepoDir()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "..", "shared")
}

func declaresModule(gomod string) (bool, error) {
	f, err := os.Open(gomod)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == Module, nil
		}
	}
	return false, sc.Err()
}
