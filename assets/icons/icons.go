// Package icons holds the menu-bar and application icons, drawn by ./gen (run
// `go generate ./assets/icons` after changing it; the PNGs and app.icns are
// committed, and a test fails when they are stale).
//
// Each tray state has three files: tray-STATE.png (22 px) and tray-STATE@2x.png
// (44 px) are macOS template images, black and alpha only, which the menu bar
// tints for light and dark mode; tray-STATE-color.png (44 px) is for trays that
// draw icons as they are, such as Linux StatusNotifierItem hosts. app.icns is the
// bundle icon `make app` copies into MLX Manager.app.
//
// Who may import me: app and its packages.
package icons

import (
	"embed"
	"fmt"
)

//go:generate go run ./gen -out .

//go:embed *.png
var files embed.FS

// States are the tray icon's states.
var States = []string{"idle", "loaded", "busy", "downloading"}

// Tray returns the PNG for a tray state: the 44 px template when template is
// set (macOS draws it at menu-bar size), else the colored one.
func Tray(state string, template bool) ([]byte, error) {
	name := "tray-" + state + "-color.png"
	if template {
		name = "tray-" + state + "@2x.png"
	}
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("tray icon %q: %w", state, err)
	}
	return b, nil
}
