//go:build !darwin

// macOS always has a menu bar, and it needs the main goroutine: there is no
// "no tray host" case to test.

package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Without a tray host (here: no session bus; in a build without the tray tag:
// no tray at all) the daemon logs one line and goes on.
func TestRunTrayWithoutHostLogsOneLine(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	d := openTestDaemon(t)
	var logs syncBuffer
	d.log = slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.runTray(context.Background(), func() { t.Error("quit called") }, "http://127.0.0.1:1")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("runTray did not return without a tray host")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "no menu-bar icon") {
		t.Fatalf("log:\n%s\nwant one line about the missing icon", logs.String())
	}
}
