package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Cache is the Hugging Face cache directory shared with huggingface_hub, mlx-lm and
// LM Studio: Root/models--{org}--{name}/{blobs,refs,snapshots}. The zero value is not
// usable: Root must be set (app/config resolves HF_HUB_CACHE / HF_HOME).
type Cache struct {
	Root string
}

// LocalModel is one complete model in the cache.
type LocalModel struct {
	Repo        string      `json:"repo"`
	Dir         string      `json:"dir"`         // Root/models--org--name
	SnapshotDir string      `json:"snapshotDir"` // Dir/snapshots/{commit}: load the model from here
	Commit      string      `json:"commit"`      // what refs/main points to
	Size        int64       `json:"size"`        // bytes on disk of the snapshot's unique blobs
	Files       []LocalFile `json:"files"`
	ModTime     time.Time   `json:"modTime"` // when refs/main was last written
}

// LocalFile is one file of a cached snapshot.
type LocalFile struct {
	Path string `json:"path"` // slash-separated, relative to the snapshot
	Size int64  `json:"size"`
}

// incompleteSuffix marks a blob still downloading, as huggingface_hub does.
const incompleteSuffix = ".incomplete"

func (c Cache) repoDir(repo string) (string, error) {
	if c.Root == "" {
		return "", errors.New("hub cache: root directory not set")
	}
	if err := checkRepoID(repo); err != nil {
		return "", err
	}
	return filepath.Join(c.Root, repoFolderName(repo)), nil
}

// List returns every complete model in the cache, whoever downloaded it, sorted by repo.
// A model is complete when refs/main names a snapshot whose every file resolves to a
// complete blob inside the repo's blobs directory.
func (c Cache) List(ctx context.Context) ([]LocalModel, error) {
	if c.Root == "" {
		return nil, errors.New("hub cache: root directory not set")
	}
	entries, err := os.ReadDir(c.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return []LocalModel{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list cache %s: %w", c.Root, err)
	}
	out := []LocalModel{}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		repo, ok := repoFromFolderName(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		m, err := c.Model(repo)
		if err != nil {
			continue // partial, foreign or broken: not a usable model
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b LocalModel) int { return strings.Compare(a.Repo, b.Repo) })
	return out, nil
}

// Model inspects one repo of the cache; ErrNotCached when it is absent or incomplete.
func (c Cache) Model(repo string) (LocalModel, error) {
	dir, err := c.repoDir(repo)
	if err != nil {
		return LocalModel{}, err
	}
	refPath := filepath.Join(dir, "refs", "main")
	ref, err := readSmall(refPath, 256)
	if err != nil {
		return LocalModel{}, fmt.Errorf("%w: %s: no refs/main", ErrNotCached, repo)
	}
	commit := strings.TrimSpace(string(ref))
	if err := checkCommit(commit); err != nil {
		return LocalModel{}, fmt.Errorf("%w: %s: %w", ErrNotCached, repo, err)
	}
	m := LocalModel{Repo: repo, Dir: dir, Commit: commit, SnapshotDir: filepath.Join(dir, "snapshots", commit)}
	if st, err := os.Stat(refPath); err == nil {
		m.ModTime = st.ModTime()
	}
	if err := m.scan(); err != nil {
		return LocalModel{}, fmt.Errorf("%w: %s: %w", ErrNotCached, repo, err)
	}
	return m, nil
}

// scan walks the snapshot, resolving each entry to a blob and summing unique blobs.
func (m *LocalModel) scan() error {
	blobs := filepath.Join(m.Dir, "blobs")
	seen := map[string]bool{}
	err := filepath.WalkDir(m.SnapshotDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(m.SnapshotDir, p)
		if err != nil {
			return err
		}
		target, size, err := resolveEntry(p, d, blobs)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		m.Files = append(m.Files, LocalFile{Path: filepath.ToSlash(rel), Size: size})
		if !seen[target] {
			seen[target] = true
			m.Size += size
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(m.Files) == 0 {
		return errors.New("empty snapshot")
	}
	return m.checkShards()
}

// resolveEntry follows a snapshot entry to its content. Links must stay inside the
// repo's blobs directory; plain files (tools that copy instead of linking) are accepted.
func resolveEntry(p string, d fs.DirEntry, blobs string) (string, int64, error) {
	if d.Type()&fs.ModeSymlink == 0 {
		st, err := os.Stat(p)
		if err != nil {
			return "", 0, err
		}
		if !st.Mode().IsRegular() {
			return "", 0, errors.New("not a regular file")
		}
		return p, st.Size(), nil
	}
	link, err := os.Readlink(p)
	if err != nil {
		return "", 0, err
	}
	target := link
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(p), target)
	}
	target = filepath.Clean(target)
	if filepath.Dir(target) != filepath.Clean(blobs) {
		return "", 0, fmt.Errorf("%w: link %q leaves the blobs directory", ErrUnsafePath, link)
	}
	if strings.HasSuffix(target, incompleteSuffix) {
		return "", 0, errors.New("blob still downloading")
	}
	st, err := os.Lstat(target)
	if err != nil {
		return "", 0, err
	}
	if !st.Mode().IsRegular() {
		return "", 0, errors.New("blob is not a regular file")
	}
	return target, st.Size(), nil
}

// checkShards catches snapshots from tools that write refs/main before the files
// (huggingface_hub does): every shard named by a safetensors index must be present.
func (m *LocalModel) checkShards() error {
	have := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		have[f.Path] = true
	}
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Path, ".safetensors.index.json") {
			continue
		}
		b, err := readSmall(filepath.Join(m.SnapshotDir, filepath.FromSlash(f.Path)), 64<<20)
		if err != nil {
			return err
		}
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(b, &idx); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		dir := ""
		if i := strings.LastIndexByte(f.Path, '/'); i >= 0 {
			dir = f.Path[:i+1]
		}
		for _, shard := range idx.WeightMap {
			if !have[dir+shard] {
				return fmt.Errorf("shard %s missing", dir+shard)
			}
		}
	}
	return nil
}

// SnapshotDir is the directory to load repo from, if it is completely cached.
func (c Cache) SnapshotDir(repo string) (string, error) {
	m, err := c.Model(repo)
	if err != nil {
		return "", err
	}
	return m.SnapshotDir, nil
}

// Delete removes repo from the cache (every revision, blob and partial download) and
// returns the bytes freed. Callers must make sure no download of repo is running
// (Manager.Delete does).
func (c Cache) Delete(repo string) (int64, error) {
	dir, err := c.repoDir(repo)
	if err != nil {
		return 0, err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("delete %s: %w", repo, ErrNotCached)
	}
	var freed int64
	// Lstat sizes only: links count nothing, each blob counts once.
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, ierr := d.Info(); ierr == nil {
				freed += info.Size()
			}
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		return 0, fmt.Errorf("delete %s: %w", repo, err)
	}
	_ = os.RemoveAll(filepath.Join(c.Root, ".locks", repoFolderName(repo))) // empty lock files only
	return freed, nil
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}
