// Package tray is the menu-bar icon: the control surface most users meet every
// day. It shows the daemon's state in its icon (idle, a model loaded, busy,
// downloading), opens the dashboard, copies the API URL, loads and unloads each
// local model with a click, follows downloads and pending user approvals, and
// switches Launch at Login.
//
// The package is split the way Tailscale's client/systray is:
//
//   - Control (control.go) is the only way in to the daemon: the pool, the models
//     dir, downloads and the user store, adapted by app. Tests use a fake.
//   - Build (menu.go) is pure: a State in, a Menu (icon, tooltip, items) out.
//   - loop (loop.go) owns the State in one goroutine, selecting on pool events,
//     clicks, the results of loads it started and a poll tick (downloads and
//     user approvals have no event stream), and draws the Menu when it changed.
//   - Run (systray.go, behind the `tray` build tag) only draws: it maps the
//     Menu onto fyne.io/systray items. Without the tag Run reports
//     ErrUnavailable, so headless builds carry no D-Bus client or cgo.
//
// On macOS the menu bar belongs to the main thread: Run must be called on the
// main goroutine, which fyne.io/systray locks to the main thread in its init.
// On Linux Run needs a session bus with a StatusNotifierItem host
// (org.kde.StatusNotifierWatcher); without one it returns ErrUnavailable at once.
// scripts/tray-xvfb.sh runs the tray build under Xvfb against a real host.
//
// Who may import me: app.
package tray
