//go:build cgo && ((linux && amd64) || darwin) && !noxla

package graph

import (
	"errors"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/backends/xla"
)

const xlaCompiled = true

func init() {
	// gomlx would otherwise download PJRT plugins from the network the first
	// time XLA is probed. Installing them is the user's decision; we only use
	// what is already on the machine.
	xla.EnableAutoInstall(false)
}

// xlaPreference orders plugins from fastest to the always-available CPU one.
var xlaPreference = []string{"cuda", "rocm", "metal", "cpu"}

var (
	xlaPluginsOnce sync.Once
	xlaPlugins     []string
)

// bestXLAPlugin returns the preferred installed PJRT plugin, or "" when none is.
func bestXLAPlugin() string {
	xlaPluginsOnce.Do(func() { xlaPlugins = xla.GetAvailablePlugins() })
	for _, p := range xlaPreference {
		if slices.Contains(xlaPlugins, p) {
			return p
		}
	}
	if len(xlaPlugins) > 0 {
		return xlaPlugins[0]
	}
	return ""
}

func errNoXLA() error {
	return errors.New("no PJRT plugin installed (set PJRT_PLUGIN_LIBRARY_PATH or install one in ~/.local/lib/go-xla)")
}
