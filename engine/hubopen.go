package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// HubOptions is what the daemon knows of the Hugging Face Hub: New builds the
// Hub client and the download manager of the models dir from it (Options.OpenHub),
// so that app configures the Hub without importing engine/hub.
type HubOptions struct {
	Endpoint  string // default https://huggingface.co
	Token     string // sent to Endpoint's host only
	Offline   bool   // every Hub call fails; the models dir still works
	UserAgent string
	// Journal keeps unfinished downloads across restarts (the daemon backs it
	// with its store); nil: downloads end with the process.
	Journal DownloadJournal
}

// DownloadJournal is where the download manager keeps its task records, and
// DownloadRecord one of them: the store holds them as opaque JSON.
type (
	DownloadJournal = hub.Journal
	DownloadRecord  = hub.TaskRecord
)

// openHub builds the client and the manager of opts.OpenHub. The engine owns
// both: Close stops the downloads.
func openHub(opts Options) (*hub.Client, *hub.Manager, error) {
	if opts.Hub != nil || opts.Downloads != nil {
		return nil, nil, errors.New("engine: OpenHub and Hub/Downloads are exclusive")
	}
	h := opts.OpenHub
	c, err := hub.New(hub.Options{Endpoint: h.Endpoint, Token: h.Token, Offline: h.Offline, Logger: opts.Logger, UserAgent: h.UserAgent})
	if err != nil {
		return nil, nil, fmt.Errorf("hub client: %w", err)
	}
	m, err := hub.NewManager(hub.ManagerOptions{Client: c, Cache: hub.Cache{Root: opts.ModelsDir}, Journal: h.Journal, Logger: opts.Logger})
	if err != nil {
		return nil, nil, fmt.Errorf("download manager: %w", err)
	}
	return c, m, nil
}

// ResumeDownloads continues the downloads the journal holds unfinished, as at
// the daemon's start. They belong to the download manager: ctx only bounds
// reading the journal and starting them.
func (e *Engine) ResumeDownloads(ctx context.Context) error {
	if e.downloads == nil {
		return nil
	}
	return e.downloads.ResumeAll(ctx)
}
