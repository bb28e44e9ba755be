package tray

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

// ErrUnavailable: there is nowhere to show a tray icon (a build without the
// tray tag, no session bus, no StatusNotifierItem host). The daemon logs it and
// keeps serving.
var ErrUnavailable = errors.New("no menu-bar tray available")

// Control is everything the tray needs from the daemon. app adapts the engine,
// the download manager and the store to it; tests use a fake.
type Control interface {
	// Models lists the models dir (Loaded is ignored: Status is the truth).
	Models(ctx context.Context) ([]engine.ModelInfo, error)
	// Status is the pool: loading, ready and unloading models, pins, requests.
	Status() []engine.ModelStatus
	// Load and Unload change the pool and return when done.
	Load(ctx context.Context, id string) error
	Unload(ctx context.Context, id string) error
	// Subscribe follows the engine's events (loads and unloads, downloads
	// changed) until cancel.
	Subscribe() (<-chan engine.Event, func())
	// Downloads lists the download tasks.
	Downloads() []engine.Download
	// PendingUsers counts the accounts waiting for an admin's approval.
	PendingUsers() (int, error)
	// UsersChanged signals, until cancel, that accounts changed (a
	// registration, an approval, a deletion), so the pending count is read
	// again at once instead of on every poll. Signals may be coalesced.
	UsersChanged() (<-chan struct{}, func())
}

// Desktop is what the tray asks of the desktop around it.
type Desktop interface {
	Open(url string) error
	Copy(text string) error
	Notify(title, body string) error
}

// LoginItem is the Launch at Login switch (app/autostart.Item).
type LoginItem interface {
	Enabled() (bool, error)
	SetEnabled(on bool) error
}

// Options configure the tray.
type Options struct {
	URL       string // the dashboard; the OpenAI-compatible API is URL + "/v1"
	Logger    *slog.Logger
	Quit      func()    // starts the daemon's graceful shutdown; Run returns after calling it
	Desktop   Desktop   // nil: the system's browser, clipboard and notifications
	LoginItem LoginItem // nil: no Launch at Login item
	// Poll is how often downloads and the pool's request counts are read (the
	// pool's load events and account changes arrive at once); 0 means a second.
	Poll time.Duration
}

func (o *Options) fill() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Quit == nil {
		o.Quit = func() {}
	}
	if o.Desktop == nil {
		o.Desktop = NewDesktop(o.Logger)
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
}
