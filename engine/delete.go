package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// DeleteResult reports a removed model.
type DeleteResult struct {
	Model      string `json:"model"`
	FreedBytes int64  `json:"freed_bytes"`
	Unloaded   bool   `json:"unloaded"` // it was loaded and got unloaded first
	// Unregistered: it was a registered local folder, now forgotten; its
	// files are where they were.
	Unregistered bool `json:"unregistered,omitempty"`
}

// deletions are the models being deleted. While one is, the loader refuses to
// load it, so that no request brings it back between the unload and the removal
// of its files.
type deletions struct {
	mu  sync.Mutex
	ids map[string]bool // guarded by mu
}

// begin marks id; false when another deletion of it runs.
func (d *deletions) begin(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ids[id] {
		return false
	}
	if d.ids == nil {
		d.ids = map[string]bool{}
	}
	d.ids[id] = true
	return true
}

func (d *deletions) end(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.ids, id)
}

// refuse is the loader's check: an error while id is being deleted.
func (d *deletions) refuse(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ids[id] {
		return fmt.Errorf("%w: %s is being deleted", pool.ErrBusy, id)
	}
	return nil
}

// DeleteModel removes a model from the models dir as one operation, in this
// order: loads of it are refused from the start; a model serving requests is
// refused with ErrBusy (generations are never cut short) and stays; a loaded
// idle one is unloaded; a download of it is stopped (through Options.Downloads);
// then its files are removed. Only a repo id can be deleted, never a folder; a
// registered local model ("local/<name>") is unloaded and unregistered, and its
// folder left as it is.
func (e *Engine) DeleteModel(ctx context.Context, id string) (DeleteResult, error) {
	res := DeleteResult{Model: id}
	if !hub.ValidRepoID(id) {
		return res, fmt.Errorf("%w: %q is not a model id (org/name)", hub.ErrInvalidRepoID, id)
	}
	if !e.deleting.begin(id) {
		return res, fmt.Errorf("%w: %s is being deleted already", pool.ErrBusy, id)
	}
	defer e.deleting.end(id)
	_, local := e.local.get(id)
	err := e.pool.Unload(ctx, id, pool.UnloadOptions{})
	switch {
	case err == nil:
		res.Unloaded = true
	case errors.Is(err, pool.ErrBusy):
		return res, fmt.Errorf("%w: %s is serving requests: try again when they are done", pool.ErrBusy, id)
	case !errors.Is(err, pool.ErrNotLoaded):
		return res, fmt.Errorf("delete %s: %w", id, err)
	}
	if local {
		// The folder is the user's: deleting a local model unregisters it.
		e.removeLocal(id)
		res.Unregistered = true
		return res, nil
	}
	if e.downloads != nil {
		res.FreedBytes, err = e.downloads.Delete(ctx, id)
	} else {
		res.FreedBytes, err = e.cache.Delete(id)
	}
	if err != nil {
		return res, fmt.Errorf("delete %s: %w", id, err)
	}
	return res, nil
}
