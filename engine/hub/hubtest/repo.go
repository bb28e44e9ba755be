package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// File is one file of a fake repo.
type File struct {
	Path string
	Data []byte
	// LFS files are answered with a 302 to the CDN server and carry a sha256, like the
	// Hub's safetensors files; the others are served by the Hub itself.
	LFS bool

	// Digests computed once by normalize: hashing megabytes per request would make the
	// fake server, not the client, the bottleneck of tests and benchmarks.
	sum, gitID string
}

// Repo is a model repo the fake Hub serves.
type Repo struct {
	ID           string // "org/name"
	Files        []File
	Commit       string // 40 hex; derived from the content when empty
	Tags         []string
	Downloads    int64
	Likes        int64
	PipelineTag  string // default "text-generation"
	Library      string // default "mlx"
	LastModified time.Time
	// Gated repos answer 401 (no token) or 403 (another token) with X-Error-Code GatedRepo
	// unless the request carries the server's Token.
	Gated bool
	// Parameters is safetensors.parameters (dtype → count); total is their sum.
	Parameters map[string]int64
}

// RandomFile makes a file of size pseudo-random bytes, the same for the same seed.
func RandomFile(path string, size int, seed uint64, lfs bool) File {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return File{Path: path, Data: data, LFS: lfs}
}

// SHA256 is the hex sha256 of data: the blob name of an LFS file.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// GitBlobID is git's object id of data: the blob name of a regular file.
func GitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// Etag is the cache blob name of f.
func (f File) Etag() string {
	if f.LFS {
		return f.sha256()
	}
	return f.blobID()
}

func (f File) sha256() string {
	if f.sum != "" {
		return f.sum
	}
	return SHA256(f.Data)
}

// blobID is the git object id: of the content, or of the LFS pointer for LFS files.
func (f File) blobID() string {
	if f.gitID != "" {
		return f.gitID
	}
	if f.LFS {
		return GitBlobID(f.pointer())
	}
	return GitBlobID(f.Data)
}

// pointer is the text git stores in place of an LFS file.
func (f File) pointer() []byte {
	return fmt.Appendf(nil, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", f.sha256(), len(f.Data))
}

// normalize fills defaults and sorts files by path.
func (r Repo) normalize() Repo {
	if r.PipelineTag == "" {
		r.PipelineTag = "text-generation"
	}
	if r.Library == "" {
		r.Library = "mlx"
	}
	if r.LastModified.IsZero() {
		r.LastModified = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	r.Files = append([]File(nil), r.Files...)
	for i := range r.Files {
		f := &r.Files[i]
		f.sum, f.gitID = "", ""
		if f.LFS {
			f.sum = SHA256(f.Data)
		}
		f.gitID = f.blobID()
	}
	sort.Slice(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })
	if r.Commit == "" {
		h := sha1.New()
		h.Write([]byte(r.ID))
		for _, f := range r.Files {
			fmt.Fprintf(h, "\x00%s\x00%s", f.Path, f.Etag())
		}
		r.Commit = hex.EncodeToString(h.Sum(nil))
	}
	return r
}

func (r Repo) file(path string) (File, bool) {
	for _, f := range r.Files {
		if f.Path == path {
			return f, true
		}
	}
	return File{}, false
}

func (r Repo) size() int64 {
	var n int64
	for _, f := range r.Files {
		n += int64(len(f.Data))
	}
	return n
}

func (r Repo) author() string {
	org, _, _ := strings.Cut(r.ID, "/")
	return org
}

// RepoFromDir builds a repo from the files under dir (a model written by a test, or a
// real tiny one), so an end-to-end test can "download" it. Files ending in
// .safetensors, .bin, .gguf or .model, and any over 1 MiB, are LFS files, as on the Hub.
func RepoFromDir(id, dir string) (Repo, error) {
	r := Repo{ID: id, Tags: []string{"mlx", "safetensors"}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		lfs := len(data) > 1<<20
		for _, ext := range []string{".safetensors", ".bin", ".gguf", ".model"} {
			lfs = lfs || strings.HasSuffix(name, ext)
		}
		r.Files = append(r.Files, File{Path: name, Data: data, LFS: lfs})
		return nil
	})
	if err != nil {
		return Repo{}, fmt.Errorf("repo from %s: %w", dir, err)
	}
	if len(r.Files) == 0 {
		return Repo{}, fmt.Errorf("repo from %s: no files", dir)
	}
	return r, nil
}
