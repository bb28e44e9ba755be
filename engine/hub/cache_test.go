package hub_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

const commitA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// cacheRepo lays out a repo the way huggingface_hub does, by hand, so the tests cover
// models downloaded by other tools.
type cacheRepo struct {
	root, dir string
}

func newCacheRepo(t *testing.T, root, repo string) cacheRepo {
	t.Helper()
	dir := filepath.Join(root, "models--"+strings.ReplaceAll(repo, "/", "--"))
	for _, d := range []string{"blobs", "refs", "snapshots"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return cacheRepo{root: root, dir: dir}
}

func (c cacheRepo) blob(t *testing.T, name string, size int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, "blobs", name), make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

// link makes snapshots/{commit}/{path} point at target (relative to the link's directory).
func (c cacheRepo) link(t *testing.T, commit, path, target string) {
	t.Helper()
	p := filepath.Join(c.dir, "snapshots", commit, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func (c cacheRepo) ref(t *testing.T, commit string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, "refs", "main"), []byte(commit+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCacheList(t *testing.T) {
	t.Parallel()
	root := t.TempDir()

	good := newCacheRepo(t, root, "org/good")
	good.blob(t, "cfg1", 10)
	good.blob(t, "w1", 1000)
	good.link(t, commitA, "config.json", "../../blobs/cfg1")
	good.link(t, commitA, "model.safetensors", "../../blobs/w1")
	good.link(t, commitA, "sub/copy.safetensors", "../../../blobs/w1") // same blob twice: counted once
	good.ref(t, commitA)

	noRef := newCacheRepo(t, root, "org/noref")
	noRef.blob(t, "b", 5)
	noRef.link(t, commitA, "config.json", "../../blobs/b")

	partial := newCacheRepo(t, root, "org/partial")
	partial.blob(t, "b.incomplete", 5)
	partial.link(t, commitA, "config.json", "../../blobs/b.incomplete")
	partial.ref(t, commitA)

	escape := newCacheRepo(t, root, "org/escape")
	if err := os.WriteFile(filepath.Join(root, "outside"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	escape.link(t, commitA, "config.json", "../../../outside")
	escape.ref(t, commitA)

	shards := newCacheRepo(t, root, "org/shards")
	shards.blob(t, "idx", 0)
	if err := os.WriteFile(filepath.Join(shards.dir, "blobs", "idx"),
		[]byte(`{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	shards.blob(t, "s1", 10)
	shards.link(t, commitA, "model.safetensors.index.json", "../../blobs/idx")
	shards.link(t, commitA, "model-00001-of-00002.safetensors", "../../blobs/s1")
	shards.ref(t, commitA)

	for _, junk := range []string{"datasets--org--data", ".locks", "models--noslash"} {
		if err := os.MkdirAll(filepath.Join(root, junk), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	c := hub.Cache{Root: root}
	models, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 1 {
		t.Fatalf("listed %+v, want only org/good", models)
	}
	m := models[0]
	if m.Repo != "org/good" || m.Commit != commitA || m.Size != 1010 || len(m.Files) != 3 {
		t.Errorf("model = %+v", m)
	}
	wantFiles := []string{"config.json", "model.safetensors", "sub/copy.safetensors"}
	var gotFiles []string
	for _, f := range m.Files {
		gotFiles = append(gotFiles, f.Path)
	}
	if !slices.Equal(gotFiles, wantFiles) {
		t.Errorf("files %v, want %v", gotFiles, wantFiles)
	}
	if dir, err := c.SnapshotDir("org/good"); err != nil || dir != filepath.Join(good.dir, "snapshots", commitA) {
		t.Errorf("SnapshotDir = %q, %v", dir, err)
	}
	for _, repo := range []string{"org/noref", "org/partial", "org/escape", "org/shards", "org/absent"} {
		if _, err := c.SnapshotDir(repo); !errors.Is(err, hub.ErrNotCached) {
			t.Errorf("SnapshotDir(%s) = %v, want ErrNotCached", repo, err)
		}
	}

	// Completing the sharded model makes it listed.
	shards.blob(t, "s2", 10)
	shards.link(t, commitA, "model-00002-of-00002.safetensors", "../../blobs/s2")
	if _, err := c.SnapshotDir("org/shards"); err != nil {
		t.Errorf("complete sharded model: %v", err)
	}
}

func TestCacheListEmptyRoot(t *testing.T) {
	t.Parallel()
	models, err := hub.Cache{Root: filepath.Join(t.TempDir(), "missing")}.List(context.Background())
	if err != nil || len(models) != 0 {
		t.Errorf("List on a missing root = %v, %v", models, err)
	}
	if _, err := (hub.Cache{}).List(context.Background()); err == nil {
		t.Error("List without a root succeeded")
	}
}

func TestCacheDelete(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	r := newCacheRepo(t, root, "org/model")
	r.blob(t, "a", 100)
	r.blob(t, "b", 50)
	r.blob(t, "c.incomplete", 7)
	r.link(t, commitA, "config.json", "../../blobs/a")
	r.link(t, commitA, "model.safetensors", "../../blobs/b")
	r.ref(t, commitA)
	c := hub.Cache{Root: root}
	freed, err := c.Delete("org/model")
	if err != nil {
		t.Fatal(err)
	}
	if freed < 157 {
		t.Errorf("freed %d bytes, want at least the 157 of blobs", freed)
	}
	if _, err := os.Stat(r.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("repo dir still there: %v", err)
	}
	if _, err := c.Delete("org/model"); !errors.Is(err, hub.ErrNotCached) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.Delete("../../etc"); !errors.Is(err, hub.ErrInvalidRepoID) {
		t.Errorf("delete with a bad id: %v", err)
	}
}
