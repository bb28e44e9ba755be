package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A model found whole is not walked again while its refs/main and snapshot
// folder keep their times; a change to either, or its removal, is walked and
// judged again.
func TestCheckModelStamps(t *testing.T) {
	e := newTestEngine(t)
	installTiny(t, e, "test/a")
	m, err := e.cache.Model("test/a")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.checkModel("test/a"); err != nil {
		t.Fatal(err)
	}
	snap, err := os.Stat(m.SnapshotDir)
	if err != nil {
		t.Fatal(err)
	}
	// A file that resolves to no blob makes the snapshot incomplete.
	if err := os.Symlink(filepath.Join(m.Dir, "blobs", "missing"), filepath.Join(m.SnapshotDir, "extra.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.resolveDir("test/a"); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("resolveDir of an incomplete snapshot: %v", err)
	}
	// Same times: the stamp stands, nothing is walked.
	if err := os.Chtimes(m.SnapshotDir, snap.ModTime(), snap.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := e.checkModel("test/a"); err != nil {
		t.Fatalf("a stamped model was walked again: %v", err)
	}
	// The folder changed: walked again, and refused.
	later := snap.ModTime().Add(time.Second)
	if err := os.Chtimes(m.SnapshotDir, later, later); err != nil {
		t.Fatal(err)
	}
	if err := e.checkModel("test/a"); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("a changed, incomplete snapshot: %v", err)
	}
	// Whole again, then deleted.
	if err := os.Remove(filepath.Join(m.SnapshotDir, "extra.json")); err != nil {
		t.Fatal(err)
	}
	if err := e.checkModel("test/a"); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(m.Dir); err != nil {
		t.Fatal(err)
	}
	if err := e.checkModel("test/a"); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("a deleted model: %v", err)
	}
	if err := e.checkModel("../etc"); err == nil {
		t.Fatal("a folder path passed")
	}
}
