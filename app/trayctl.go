package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/mlx-manager/mlx-manager/app/autostart"
	"github.com/mlx-manager/mlx-manager/app/tray"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// runTray shows the menu-bar icon until ctx ends; quit is the menu's Quit. It
// blocks because the macOS menu bar needs the main goroutine (Serve's caller).
// Without a tray it logs one line and returns at once.
func (d *daemon) runTray(ctx context.Context, quit func(), url string) {
	ctl := trayControl{engine: d.engine, store: d.store}
	opts := tray.Options{URL: url, Logger: d.log, Quit: quit}
	if it := loginItem(d.log); it != nil {
		opts.LoginItem = it
	}
	err := tray.Run(ctx, ctl, opts)
	switch {
	case err == nil:
	case errors.Is(err, tray.ErrUnavailable):
		d.log.Info("no menu-bar icon; serving without it", "reason", err)
	default:
		d.log.Error("menu-bar icon", "err", err)
	}
}

// loginItem is the Launch at Login switch for this program, or nil where there
// is none (an unknown system, no home directory).
func loginItem(log *slog.Logger) *autostart.Item {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		log.Debug("launch at login: cannot find this program", "err", err)
		return nil
	}
	home, _ := os.UserHomeDir() // autostart.New reports a missing one
	var configDir string
	if runtime.GOOS != "darwin" { // on macOS UserConfigDir is Application Support, not XDG
		configDir, _ = os.UserConfigDir()
	}
	it, err := autostart.New(autostart.Options{Home: home, ConfigDir: configDir, Exe: exe, Args: []string{"serve", "--no-open"}})
	if err != nil {
		log.Debug("launch at login unavailable", "err", err)
		return nil
	}
	return it
}

// trayControl is the tray's narrow view of the daemon (tray.Control).
type trayControl struct {
	engine *engine.Engine
	store  *store.Store
}

func (c trayControl) Models(ctx context.Context) ([]engine.ModelInfo, error) {
	return c.engine.Models(ctx)
}

func (c trayControl) Status() []engine.ModelStatus { return c.engine.Status() }

// Load is an explicit load, as from the Servers page: not pinned, default TTL.
func (c trayControl) Load(ctx context.Context, id string) error {
	return c.engine.Load(ctx, id, engine.LoadOptions{})
}

// Unload waits for running requests instead of failing with ErrBusy: the menu
// shows "Unloading…" meanwhile, and a click should not need repeating.
func (c trayControl) Unload(ctx context.Context, id string) error {
	return c.engine.Unload(ctx, id, engine.UnloadOptions{Wait: true})
}

func (c trayControl) Subscribe() (<-chan engine.Event, func()) {
	return c.engine.Subscribe()
}

func (c trayControl) Downloads() []engine.Download { return c.engine.Downloads() }

func (c trayControl) PendingUsers() (int, error) { return c.store.Users().CountPending() }

// UsersChanged turns the store's committed account writes into signals, one
// waiting at most: the tray re-reads the count, so several changes need one read.
func (c trayControl) UsersChanged() (<-chan struct{}, func()) {
	changes, cancel := c.store.Changes()
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		for ch := range changes {
			if ch.Topic != store.ChangeUsers && !ch.Lost {
				continue
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, cancel
}
