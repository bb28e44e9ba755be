package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// LocalPrefix starts the name of a registered local model folder:
// "local/<name>". A registered name resolves to its folder; an unregistered
// one is looked for in the models dir like any repo id (the Hub's "local"
// namespace, and test fixtures, keep working), never as a folder.
const LocalPrefix = "local/"

// Errors of the local model registry.
var (
	ErrInvalidLocalFolder = errors.New("not a model folder") // 400: the folder to register fails CheckLocalFolder
	ErrLocalExists        = errors.New("local model exists") // 409: the name is registered already
)

// LocalFolder is a registered model folder: Name is "local/<name>", Path the
// folder as CheckLocalFolder resolved it.
type LocalFolder struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// IsLocal reports whether r is in the local/ namespace of registered folders
// (whether it is registered is the engine's to say).
func (r ModelRef) IsLocal() bool { return strings.HasPrefix(r.id, LocalPrefix) }

// ParseLocalName turns the name an admin gives a folder ("m" or "local/m")
// into its ModelRef. The name part follows the Hub's rules for a repo name.
func ParseLocalName(s string) (ModelRef, error) {
	id := s
	if !strings.HasPrefix(id, LocalPrefix) {
		id = LocalPrefix + id
	}
	if !hub.ValidRepoID(id) {
		return ModelRef{}, fmt.Errorf("%w: %q is not a local model name (letters, digits, '-', '_' and '.')", ErrInvalidModelRef, s)
	}
	return ModelRef{id: id}, nil
}

// CheckLocalFolder is the one check of a folder before it is registered: an
// absolute path to a directory holding a config.json and at least one
// .safetensors file, read through its symlinks. It returns the resolved
// path, which is what gets registered, so that swapping a symlink later does
// not move the model.
func CheckLocalFolder(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%w: %q is not an absolute path", ErrInvalidLocalFolder, path)
	}
	dir, err := filepath.EvalSymlinks(filepath.Clean(path))
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalidLocalFolder, path, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalidLocalFolder, path, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is not a directory", ErrInvalidLocalFolder, path)
	}
	if st, err := os.Stat(filepath.Join(dir, "config.json")); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s holds no config.json", ErrInvalidLocalFolder, path)
	}
	weights, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil || len(weights) == 0 {
		return "", fmt.Errorf("%w: %s holds no .safetensors weights", ErrInvalidLocalFolder, path)
	}
	return dir, nil
}

// localFolders is the registry: the names requests may use for folders.
type localFolders struct {
	mu   sync.RWMutex
	dirs map[string]string // guarded by mu; "local/<name>" → resolved folder
}

// localDirs is the registry at start (Options.LocalModels).
func localDirs(fs []LocalFolder) (map[string]string, error) {
	dirs := make(map[string]string, len(fs))
	for _, f := range fs {
		ref, err := ParseLocalName(f.Name)
		if err != nil {
			return nil, err
		}
		dirs[ref.id] = f.Path
	}
	return dirs, nil
}

func (l *localFolders) get(id string) (string, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	dir, ok := l.dirs[id]
	return dir, ok
}

func (l *localFolders) list() []LocalFolder {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]LocalFolder, 0, len(l.dirs))
	for name, dir := range l.dirs {
		out = append(out, LocalFolder{Name: name, Path: dir})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AddLocalModel registers dir under ref (from ParseLocalName), which requests
// may then name like any model. dir is what CheckLocalFolder returned: the
// daemon also registers its stored folders at start without checking them
// again, so that a folder gone missing is listed (as unsupported) and can be
// unregistered rather than silently dropped.
func (e *Engine) AddLocalModel(ref ModelRef, dir string) error {
	if !ref.IsLocal() {
		return fmt.Errorf("%w: %s is not a local model name", ErrInvalidModelRef, ref)
	}
	if _, err := e.cache.Model(ref.id); err == nil {
		return fmt.Errorf("%w: %s is a model of the models dir", ErrLocalExists, ref)
	}
	e.local.mu.Lock()
	defer e.local.mu.Unlock()
	if _, ok := e.local.dirs[ref.id]; ok {
		return fmt.Errorf("%w: %s is registered already", ErrLocalExists, ref)
	}
	e.local.dirs[ref.id] = dir
	return nil
}

// LocalModels lists the registered folders by name.
func (e *Engine) LocalModels() []LocalFolder { return e.local.list() }

// removeLocal unregisters id (DeleteModel's last step for a local model).
func (e *Engine) removeLocal(id string) bool {
	e.local.mu.Lock()
	defer e.local.mu.Unlock()
	_, ok := e.local.dirs[id]
	delete(e.local.dirs, id)
	return ok
}

// describeLocal is a registered folder's entry in the model list: what its
// config says, its size on disk (the folder's own files) and when its config
// last changed.
func describeLocal(f LocalFolder) ModelInfo {
	info := describe(f.Name, f.Path)
	info.Registered = true
	entries, err := os.ReadDir(f.Path)
	if err != nil {
		info.Supported, info.Unsupported = false, fmt.Sprintf("folder unreadable: %v", err)
		return info
	}
	var newest time.Time
	for _, ent := range entries {
		fi, err := os.Stat(filepath.Join(f.Path, ent.Name())) // through symlinks: folders of links to blobs are common
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		info.SizeBytes += fi.Size()
		if ent.Name() == "config.json" {
			newest = fi.ModTime()
		}
	}
	info.Modified = newest
	return info
}
