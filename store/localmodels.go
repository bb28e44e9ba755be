package store

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketLocalModels = []byte("local_models")

// LocalModel is a model folder an admin registered ("local/<name>"): the only
// way a folder outside the models dir becomes loadable by requests. The engine
// checks the folder when it is registered (engine.CheckLocalFolder) and
// Path is what that check resolved; the store keeps the record.
type LocalModel struct {
	Name    string    `json:"name"` // "local/<name>"
	Path    string    `json:"path"` // absolute, symlinks resolved
	AddedBy string    `json:"added_by,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// Validate is the record's shape: a local/ name of one segment and a clean
// absolute path. That the folder holds a model is the engine's check.
func (m LocalModel) Validate() error {
	rest, ok := strings.CutPrefix(m.Name, "local/")
	if !ok || rest == "" || strings.ContainsAny(rest, `/\`) {
		return &SettingError{Field: "name", Reason: fmt.Sprintf("a local model's name is local/<name>, not %q", m.Name)}
	}
	if !filepath.IsAbs(m.Path) || filepath.Clean(m.Path) != m.Path {
		return &SettingError{Field: "path", Reason: fmt.Sprintf("a local model's path must be absolute and clean, not %q", m.Path)}
	}
	return nil
}

// LocalModels is the registry of local model folders, keyed by name.
type LocalModels struct{ s *Store }

// LocalModels returns the local model registry.
func (s *Store) LocalModels() LocalModels { return LocalModels{s} }

// Add registers m, stamping AddedAt; a name already registered is ErrConflict.
func (lm LocalModels) Add(m LocalModel) (LocalModel, error) {
	if err := m.Validate(); err != nil {
		return LocalModel{}, err
	}
	m.AddedAt = lm.s.now().UTC()
	err := lm.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLocalModels)
		if b.Get([]byte(m.Name)) != nil {
			return fmt.Errorf("%s is registered already: %w", m.Name, ErrConflict)
		}
		return putJSON(b, []byte(m.Name), m)
	})
	if err != nil {
		return LocalModel{}, fmt.Errorf("register local model: %w", err)
	}
	return m, nil
}

// Remove unregisters name; an unknown name is ErrNotFound. The folder is the
// user's and stays as it is.
func (lm LocalModels) Remove(name string) error {
	err := lm.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLocalModels)
		if b.Get([]byte(name)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("unregister local model %s: %w", name, err)
	}
	return nil
}

// List returns every registered folder, by name.
func (lm LocalModels) List() ([]LocalModel, error) {
	var out []LocalModel
	err := lm.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLocalModels)
		return b.ForEach(func(k, _ []byte) error {
			var m LocalModel
			if err := getJSON(b, k, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list local models: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
