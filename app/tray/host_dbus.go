//go:build tray && (linux || freebsd || openbsd || netbsd)

package tray

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"
)

// watcher is the D-Bus name of the StatusNotifierItem host that tray icons
// register with; without it, fyne.io/systray's icon would be seen by nobody.
const watcher = "org.kde.StatusNotifierWatcher"

// hostReady checks for a session bus with a tray host before fyne.io/systray
// starts, because systray only logs its failures and would leave the daemon
// with an icon nobody can see.
func hostReady() error {
	// godbus would otherwise try to start a bus with dbus-launch.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if _, err := os.Stat(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus")); os.Getenv("XDG_RUNTIME_DIR") == "" || err != nil {
			return errors.New("no D-Bus session bus")
		}
	}
	conn, err := dbus.SessionBus() // shared: systray uses this connection too
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcher).Store(&has); err != nil {
		return fmt.Errorf("look for a tray host: %w", err)
	}
	if !has {
		return errors.New("no StatusNotifierItem host (" + watcher + ") on the session bus")
	}
	return nil
}
