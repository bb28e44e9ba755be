package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// The download vocabulary of the facade: the download manager's own types under
// the engine's names (as pool.go does for the pool), so that the API shows and
// streams downloads without importing engine/hub.
type (
	Download       = hub.Progress     // a snapshot of one download task
	DownloadFile   = hub.FileProgress // one file of a download
	DownloadStatus = hub.Status       // where a download (or one of its files) stands
	DownloadAction = hub.Action       // pause, resume or cancel
)

// The statuses of a download, and the actions a user may ask of one.
const (
	DownloadPending     = hub.StatusPending
	DownloadDownloading = hub.StatusDownloading
	DownloadPaused      = hub.StatusPaused
	DownloadVerifying   = hub.StatusVerifying
	DownloadCompleted   = hub.StatusCompleted
	DownloadFailed      = hub.StatusFailed
	DownloadCancelled   = hub.StatusCancelled

	DownloadPause  = hub.ActPause
	DownloadResume = hub.ActResume
	DownloadCancel = hub.ActCancel
)

// DownloadStatuses lists every status in the order a download passes them, for
// the metrics that count downloads by status and the API's schema.
var DownloadStatuses = []DownloadStatus{DownloadPending, DownloadDownloading, DownloadPaused, DownloadVerifying,
	DownloadCompleted, DownloadFailed, DownloadCancelled}

// CheckDownloadAction says whether action applies to a download in status st:
// nil, or an error wrapping the download state machine's ErrTransition that
// names both (pausing a completed download, ...).
func CheckDownloadAction(st DownloadStatus, action DownloadAction) error {
	_, err := hub.Next(st, action)
	return err
}

// ErrNoHub is the answer of the Hub and download operations of an engine
// started without a Hub client (Options.Hub) or download manager
// (Options.Downloads).
var ErrNoHub = errors.New("the hugging face hub client is not configured")

var errNoDownloads = fmt.Errorf("%w: no download manager", ErrNoHub)

// HasDownloads reports whether the engine was given a download manager.
func (e *Engine) HasDownloads() bool { return e.downloads != nil }

// StartDownload starts the download of a Hub repo into the models dir, or joins
// the one under way, and returns its state. The download belongs to the manager:
// it goes on after ctx ends.
func (e *Engine) StartDownload(ctx context.Context, repo ModelRef) (Download, error) {
	if e.downloads == nil {
		return Download{}, errNoDownloads
	}
	if _, ok := e.local.get(repo.String()); ok {
		return Download{}, fmt.Errorf("%w: %s names a registered local folder, not a Hub repo", ErrInvalidRequest, repo)
	}
	t, err := e.downloads.Start(ctx, repo.String())
	if err != nil {
		return Download{}, err
	}
	return t.Progress(), nil
}

// Downloads lists active and recently finished downloads, oldest first.
func (e *Engine) Downloads() []Download {
	if e.downloads == nil {
		return nil
	}
	return e.downloads.List()
}

// DownloadState is one download's state, by task id.
func (e *Engine) DownloadState(id string) (Download, error) {
	if e.downloads == nil {
		return Download{}, errNoDownloads
	}
	t, err := e.downloads.Get(id)
	if err != nil {
		return Download{}, err
	}
	return t.Progress(), nil
}

// ClearDownloads removes the finished downloads (completed, cancelled, failed)
// from the list and returns how many; their models stay on disk.
func (e *Engine) ClearDownloads() int {
	if e.downloads == nil {
		return 0
	}
	return e.downloads.ClearFinished()
}

// WatchDownload follows one download: its current state first, then its changes;
// a slow reader skips intermediate states, never the final one. The channel
// closes after the final state or when the manager closes; stop ends the watch.
func (e *Engine) WatchDownload(id string) (updates <-chan Download, stop func(), err error) {
	if e.downloads == nil {
		return nil, nil, errNoDownloads
	}
	return e.downloads.Subscribe(id)
}

// ControlDownload pauses, resumes or cancels a download and returns its state
// after the action. An action its state does not allow is an error wrapping the
// state machine's ErrTransition (see CheckDownloadAction).
func (e *Engine) ControlDownload(ctx context.Context, id string, action DownloadAction) (Download, error) {
	if e.downloads == nil {
		return Download{}, errNoDownloads
	}
	t, err := e.downloads.Get(id)
	if err != nil {
		return Download{}, err
	}
	switch action {
	case DownloadPause:
		err = e.downloads.Pause(id)
	case DownloadResume:
		err = e.downloads.Resume(ctx, id)
	case DownloadCancel:
		err = e.downloads.Cancel(id)
	default:
		err = fmt.Errorf("%w: %q is not a download action (pause, resume, cancel)", ErrInvalidRequest, action)
	}
	if err != nil {
		return Download{}, err
	}
	return t.Progress(), nil
}
