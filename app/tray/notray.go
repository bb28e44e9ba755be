//go:build !tray

package tray

import (
	"context"
	"fmt"
)

// Run would show the menu-bar icon; this build has none (build with -tags tray).
func Run(ctx context.Context, ctl Control, opts Options) error {
	return fmt.Errorf("%w: built without the tray tag", ErrUnavailable)
}

// Available reports why there is nowhere to show the icon, or nil when Run would show it.
func Available() error {
	return fmt.Errorf("%w: built without the tray tag", ErrUnavailable)
}
