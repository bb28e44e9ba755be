package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// The Hub vocabulary of the facade (see downloads.go for why these are aliases).
type (
	SearchQuery = hub.SearchQuery  // a Hub model search
	HubModel    = hub.ModelSummary // one search result
)

// ErrOffline is the Hub client's refusal in offline mode.
var ErrOffline = hub.ErrOffline

// maxLocalConfig bounds a config.json read from the models dir: real ones are
// a few KB.
const maxLocalConfig = 8 << 20

// HasHub reports whether the engine was given a Hub client (Options.Hub).
func (e *Engine) HasHub() bool { return e.hub != nil }

// Search searches the Hub's models.
func (e *Engine) Search(ctx context.Context, q SearchQuery) ([]HubModel, error) {
	if e.hub == nil {
		return nil, ErrNoHub
	}
	return e.hub.Search(ctx, q)
}

// HubConfig is repo's config.json on the Hub, or nil when the repo has none (an
// unknown repo is an error).
func (e *Engine) HubConfig(ctx context.Context, repo ModelRef) ([]byte, error) {
	if e.hub == nil {
		return nil, ErrNoHub
	}
	raw, err := e.hub.Config(ctx, repo.String())
	var se *hub.StatusError
	if errors.As(err, &se) && se.Code == "EntryNotFound" {
		return nil, nil
	}
	return raw, err
}

// HubEndpoint is the Hub's URL; "" without a Hub client.
func (e *Engine) HubEndpoint() string {
	if e.hub == nil {
		return ""
	}
	return e.hub.Endpoint()
}

// HubOffline reports whether the Hub client is in offline mode.
func (e *Engine) HubOffline() bool { return e.hub != nil && e.hub.Offline() }

// SetHubToken changes the token of the Hub client's next requests.
func (e *Engine) SetHubToken(token string) {
	if e.hub != nil {
		e.hub.SetToken(token)
	}
}

// SetHubOffline turns the Hub client's offline mode on or off.
func (e *Engine) SetHubOffline(offline bool) {
	if e.hub != nil {
		e.hub.SetOffline(offline)
	}
}

// Downloaded reports whether repo is complete in the models dir.
func (e *Engine) Downloaded(repo ModelRef) bool {
	if _, ok := e.local.get(repo.String()); ok {
		return true
	}
	_, err := e.cache.Model(repo.String())
	return err == nil
}

// LocalConfig reads repo's config.json from the models dir, with the model's
// size on disk; ok is false when the model is not (completely) there or its
// config cannot be read.
func (e *Engine) LocalConfig(repo ModelRef) (raw []byte, size int64, ok bool) {
	dir, size, ok := e.folderOf(repo)
	if !ok {
		return nil, 0, false
	}
	f, err := os.Open(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, 0, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() > maxLocalConfig {
		return nil, 0, false
	}
	raw = make([]byte, st.Size())
	if _, err := f.ReadAt(raw, 0); err != nil {
		return nil, 0, false
	}
	return raw, size, true
}

// folderOf is where repo's files are and their size: its snapshot in the
// models dir, or its registered folder.
func (e *Engine) folderOf(repo ModelRef) (dir string, size int64, ok bool) {
	if dir, ok := e.local.get(repo.String()); ok {
		return dir, describeLocal(LocalFolder{Name: repo.String(), Path: dir}).SizeBytes, true
	}
	m, err := e.cache.Model(repo.String())
	if err != nil {
		return "", 0, false
	}
	return m.SnapshotDir, m.Size, true
}
