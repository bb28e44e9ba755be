//go:build tray && !(linux || freebsd || openbsd || netbsd)

package tray

// hostReady: macOS and Windows always have a menu bar or notification area
// in a graphical session.
func hostReady() error { return nil }
