package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// blobPaths returns the final and in-progress paths of a blob. etag must have passed checkEtag.
func (c Cache) blobPaths(repo, etag string) (final, partial string, err error) {
	dir, err := c.repoDir(repo)
	if err != nil {
		return "", "", err
	}
	if err := checkEtag(etag); err != nil {
		return "", "", err
	}
	final = filepath.Join(dir, "blobs", etag)
	return final, final + incompleteSuffix, nil
}

// snapshotPath is where file name of commit appears; name must have passed CheckFileName.
func (c Cache) snapshotPath(repo, commit, name string) (string, error) {
	dir, err := c.repoDir(repo)
	if err != nil {
		return "", err
	}
	if err := checkCommit(commit); err != nil {
		return "", err
	}
	if err := CheckFileName(name); err != nil {
		return "", err
	}
	snap := filepath.Join(dir, "snapshots", commit)
	p := filepath.Join(snap, filepath.FromSlash(name))
	// Belt and braces after CheckFileName: the joined path must stay in the snapshot.
	if rel, err := filepath.Rel(snap, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, name)
	}
	return p, nil
}

// linkSnapshot points snapshots/{commit}/{name} at blobs/{etag} with a relative
// symlink, replacing any previous entry atomically.
func (c Cache) linkSnapshot(repo, commit, name, etag string) error {
	dst, err := c.snapshotPath(repo, commit, name)
	if err != nil {
		return err
	}
	blob, _, err := c.blobPaths(repo, etag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	rel, err := filepath.Rel(filepath.Dir(dst), blob)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if cur, err := os.Readlink(dst); err == nil && cur == rel {
		return nil
	}
	tmp := dst + ".tmp-link"
	_ = os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link %s: %w", name, err)
	}
	return nil
}

// writeRef records that ref (e.g. "main") points at commit, atomically. It is the
// last step of a download: until then List does not see the new snapshot.
func (c Cache) writeRef(repo, ref, commit string) error {
	dir, err := c.repoDir(repo)
	if err != nil {
		return err
	}
	if err := checkCommit(commit); err != nil {
		return err
	}
	if err := CheckFileName(ref); err != nil {
		return err
	}
	p := filepath.Join(dir, "refs", filepath.FromSlash(ref))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write ref %s: %w", ref, err)
	}
	tmp := p + ".tmp"
	// No trailing newline: huggingface_hub writes the bare sha.
	if err := os.WriteFile(tmp, []byte(commit), 0o644); err != nil {
		return fmt.Errorf("write ref %s: %w", ref, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write ref %s: %w", ref, err)
	}
	return nil
}

// readRef returns the commit ref points to, or "" when there is none.
func (c Cache) readRef(repo, ref string) string {
	dir, err := c.repoDir(repo)
	if err != nil {
		return ""
	}
	b, err := readSmall(filepath.Join(dir, "refs", ref), 256)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// discardSnapshot removes the snapshot of commit unless a ref points to it, then the
// blobs no snapshot links to any more, then the repo directory if nothing is left.
// It undoes a cancelled download without touching what other revisions use.
func (c Cache) discardSnapshot(repo, commit string) error {
	dir, err := c.repoDir(repo)
	if err != nil {
		return err
	}
	if commit != "" && checkCommit(commit) == nil && c.readRef(repo, "main") != commit {
		if err := os.RemoveAll(filepath.Join(dir, "snapshots", commit)); err != nil {
			return fmt.Errorf("discard snapshot %s: %w", commit, err)
		}
	}
	used := map[string]bool{}
	_ = filepath.WalkDir(filepath.Join(dir, "snapshots"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			if l, lerr := os.Readlink(p); lerr == nil {
				used[filepath.Base(l)] = true
			}
		}
		return nil
	})
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discard snapshot: %w", err)
	}
	for _, b := range blobs {
		if !used[b.Name()] {
			if err := os.Remove(filepath.Join(dir, "blobs", b.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("discard blob: %w", err)
			}
		}
	}
	removeEmpty(filepath.Join(dir, "snapshots"), filepath.Join(dir, "blobs"), filepath.Join(dir, "refs"), dir)
	return nil
}

// removeEmpty removes each directory if it is empty (os.Remove refuses otherwise).
func removeEmpty(dirs ...string) {
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}
