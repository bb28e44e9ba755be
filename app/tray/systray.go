//go:build tray

package tray

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/systray"

	"github.com/mlx-manager/mlx-manager/assets/icons"
)

// ran guards fyne.io/systray, which keeps global state and runs once per process.
var ran atomic.Bool

// Available reports why there is nowhere to show the icon, or nil when Run
// would show it, so the start line can say so before Run blocks.
func Available() error {
	if err := hostReady(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Run shows the menu-bar icon until ctx ends or the user picks Quit (after
// which opts.Quit has been called). On macOS it must be called on the main
// goroutine. Without a tray host it returns ErrUnavailable at once.
func Run(ctx context.Context, ctl Control, opts Options) error {
	if err := hostReady(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: the tray already ran in this process", ErrUnavailable)
	}
	opts.fill()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := newDrawer(opts.Logger)
	l := newLoop(ctl, opts, d.draw)
	// On Linux systray exports the icon's properties from what was set before
	// it connected, and drops a change made while it is connecting: set the
	// first icon and tooltip now, so they cannot be lost.
	l.refreshModels(ctx)
	l.poll()
	l.readPending()
	d.header(Build(l.state))
	started, done := make(chan struct{}), make(chan struct{})
	onReady := func() {
		close(started)
		go func() {
			defer close(done)
			tick := time.NewTicker(opts.Poll)
			defer tick.Stop()
			l.run(ctx, d.clicks, tick.C)
			d.close()
			systray.Quit()
		}()
	}
	systray.Run(onReady, nil) // the platform's event loop, until systray.Quit
	cancel()
	select {
	case <-started:
		<-done
	default: // the event loop ended before it was ready
	}
	return nil
}

// drawer maps Menus onto systray items. The item list only changes shape when
// a model, a download or the pending-users line comes or goes; then the menu is
// rebuilt, and otherwise the items are updated in place.
type drawer struct {
	log    *slog.Logger
	clicks chan string
	stop   chan struct{}
	once   sync.Once

	// Used by draw only, which the loop goroutine calls.
	last  Menu
	drawn bool
	items []*systray.MenuItem // parallel to last.Items; nil for separators
}

func newDrawer(log *slog.Logger) *drawer {
	return &drawer{log: log, clicks: make(chan string), stop: make(chan struct{})}
}

func (d *drawer) close() { d.once.Do(func() { close(d.stop) }) }

// header sets the icon, tooltip and title, whatever was drawn before.
func (d *drawer) header(m Menu) {
	d.setIcon(m.Icon)
	systray.SetTooltip(m.Tooltip)
	d.setTitle(m.Title)
}

func (d *drawer) draw(m Menu) {
	if !d.drawn {
		d.header(m)
	} else {
		if m.Icon != d.last.Icon {
			d.setIcon(m.Icon)
		}
		if m.Tooltip != d.last.Tooltip {
			systray.SetTooltip(m.Tooltip)
		}
		if m.Title != d.last.Title {
			d.setTitle(m.Title)
		}
	}
	if d.drawn && sameShape(d.last.Items, m.Items) {
		for i, it := range m.Items {
			update(d.items[i], d.last.Items[i], it)
		}
	} else {
		d.rebuild(m.Items)
	}
	d.last, d.drawn = m, true
}

func (d *drawer) setIcon(ic Icon) {
	template := runtime.GOOS == "darwin"
	b, err := icons.Tray(string(ic), template)
	if err != nil {
		d.log.Error("tray icon", "err", err)
		return
	}
	if template {
		systray.SetTemplateIcon(b, b)
		return
	}
	systray.SetIcon(b)
}

// setTitle: the macOS menu bar shows the title beside the icon; a Linux host
// shows the StatusNotifierItem title as the app's name.
func (d *drawer) setTitle(title string) {
	if runtime.GOOS != "darwin" {
		title = "MLX Manager"
	}
	systray.SetTitle(title)
}

// sameShape reports whether two item lists differ only in their text and state.
func sameShape(a, b []Item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Kind != b[i].Kind {
			return false
		}
	}
	return true
}

func (d *drawer) rebuild(items []Item) {
	if len(d.items) > 0 {
		systray.ResetMenu() // closes the old items' click channels, ending their forwarders
	}
	d.items = make([]*systray.MenuItem, len(items))
	for i, it := range items {
		var mi *systray.MenuItem
		switch it.Kind {
		case KindSeparator:
			systray.AddSeparator()
			continue
		case KindCheck:
			mi = systray.AddMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
		default:
			mi = systray.AddMenuItem(it.Title, it.Tooltip)
		}
		if it.Disabled || it.Kind == KindLabel {
			mi.Disable()
		}
		d.items[i] = mi
		go d.forward(mi.ClickedCh, it.ID)
	}
}

// update changes one systray item from was to now, touching only what changed
// (each change is a D-Bus signal or a main-thread call).
func update(mi *systray.MenuItem, was, now Item) {
	if mi == nil {
		return
	}
	if now.Title != was.Title {
		mi.SetTitle(now.Title)
	}
	if now.Tooltip != was.Tooltip {
		mi.SetTooltip(now.Tooltip)
	}
	if now.Checked != was.Checked {
		if now.Checked {
			mi.Check()
		} else {
			mi.Uncheck()
		}
	}
	if now.Disabled != was.Disabled {
		if now.Disabled {
			mi.Disable()
		} else {
			mi.Enable()
		}
	}
}

// forward turns an item's clicks into its ID on the loop's click channel.
func (d *drawer) forward(ch <-chan struct{}, id string) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
			select {
			case d.clicks <- id:
			case <-d.stop:
				return
			}
		case <-d.stop:
			return
		}
	}
}
