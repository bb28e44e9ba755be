// Package autostart writes and removes the file that starts MLX Manager when the
// user logs in: a LaunchAgent plist in ~/Library/LaunchAgents on macOS, an XDG
// autostart .desktop file on Linux and the BSDs. It only writes the file; launchd
// or the session manager reads it at the next login, so enabling it never starts
// a second copy now, and disabling it never stops the running one.
//
// The tray's "Launch at Login" checkbox is its only user; app builds the Options
// (the program's path, `serve --no-open`) so this package reads no environment.
package autostart
