//go:build tray && linux && !race

// fyne.io/systray v1.12.2 reads its menu revision in GetLayout under menuLock
// while refresh writes it under another lock, so this file is left out of race
// builds; make test-tray runs it without -race.

package tray

import (
	"bufio"
	"context"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// busLayout is com.canonical.dbusmenu's (ia{sv}av) item.
type busLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// TestSystrayOverDBus runs the real systray adapter on a private session bus
// with a real StatusNotifierWatcher, and drives it the way a tray host does:
// it reads the registered item, its icon and its menu, and clicks a model
// through com.canonical.dbusmenu.Event. scripts/tray-xvfb.sh does the same with
// the whole daemon and a host that draws the icon under Xvfb.
func TestSystrayOverDBus(t *testing.T) {
	for _, tool := range []string{"dbus-daemon", "status-notifier-watcher"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, err == nil, tool+" (apt-get install dbus haskell-status-notifier-item-utils)")
	}
	addr := startBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	client, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	startProcess(t, addr, "status-notifier-watcher")
	// The watcher takes its bus name before it exports its object, and
	// systray registers once per name owner: wait until the object answers, or
	// the item's RegisterStatusNotifierItem can meet UnknownObject and never
	// be retried (CI saw it).
	waitFor(t, "the watcher serving on the bus", func() bool {
		_, err := client.Object(watcher, "/StatusNotifierWatcher").GetProperty(watcher + ".RegisteredStatusNotifierItems")
		return err == nil
	})

	ctl := newFakeControl(tiny)
	quit := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() {
		ran <- Run(ctx, ctl, Options{
			URL: "http://127.0.0.1:8080", Logger: slog.New(slog.DiscardHandler), Desktop: &fakeDesktop{},
			Quit: func() { close(quit) }, Poll: 20 * time.Millisecond,
		})
	}()

	var item dbus.BusObject
	waitFor(t, "the icon registered with the watcher", func() bool {
		v, err := client.Object(watcher, "/StatusNotifierWatcher").GetProperty(watcher + ".RegisteredStatusNotifierItems")
		items, _ := v.Value().([]string)
		if err != nil || len(items) == 0 {
			return false
		}
		// An entry is the item's bus name, followed by its object path unless
		// that is the default one (watchers differ in which they list).
		name, path, found := strings.Cut(items[0], "/")
		if !found {
			path = "StatusNotifierItem"
		}
		item = client.Object(name, dbus.ObjectPath("/"+path))
		return true
	})
	pix, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil || !strings.Contains(pix.String(), "44, 44") {
		t.Fatalf("IconPixmap = %v, %v; want the 44 px icon", pix, err)
	}
	tip, err := item.GetProperty("org.kde.StatusNotifierItem.ToolTip")
	if err != nil || !strings.Contains(tip.String(), "http://127.0.0.1:8080") {
		t.Fatalf("ToolTip = %v, %v; want the address", tip, err)
	}
	menuPath, err := item.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatal(err)
	}
	menu := client.Object(item.Destination(), menuPath.Value().(dbus.ObjectPath))

	model := waitItem(t, menu, func(p map[string]dbus.Variant) bool { return label(p) == tiny && toggle(p) == 0 })
	if err := menu.Call("com.canonical.dbusmenu.Event", 0, model, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatal(err)
	}
	waitItem(t, menu, func(p map[string]dbus.Variant) bool { return label(p) == tiny && toggle(p) == 1 })
	if got := ctl.callLog(); !slices.Equal(got, []string{"load " + tiny}) {
		t.Fatalf("calls %q, want the load", got)
	}

	// A line that changes the menu's shape rebuilds it; clicks still reach the loop.
	ctl.setPending(1)
	waitItem(t, menu, func(p map[string]dbus.Variant) bool { return strings.HasPrefix(label(p), "1 user waiting") })
	quitID := waitItem(t, menu, func(p map[string]dbus.Variant) bool { return label(p) == "Quit MLX Manager" })
	if err := menu.Call("com.canonical.dbusmenu.Event", 0, quitID, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatal(err)
	}
	select {
	case <-quit:
	case <-time.After(10 * time.Second):
		t.Fatal("Quit in the menu did not call Options.Quit")
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Quit")
	}
}

// startBus runs a private session bus and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(line)
}

func startProcess(t *testing.T, busAddr, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(cmd.Environ(), "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitItem waits for a menu item whose properties pass ok, as GetLayout shows
// it, and returns its id.
func waitItem(t *testing.T, menu dbus.BusObject, ok func(map[string]dbus.Variant) bool) int32 {
	t.Helper()
	var id int32
	waitFor(t, "a menu item", func() bool {
		var rev uint32
		var root busLayout
		if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
			return false
		}
		for _, c := range root.Children {
			var it busLayout
			if dbus.Store([]any{c.Value()}, &it) != nil {
				continue
			}
			if visible(it.Props) && ok(it.Props) {
				id = it.ID
				return true
			}
		}
		return false
	})
	return id
}

func label(p map[string]dbus.Variant) string {
	s, _ := p["label"].Value().(string)
	return s
}

func toggle(p map[string]dbus.Variant) int32 {
	n, _ := p["toggle-state"].Value().(int32)
	return n
}

func visible(p map[string]dbus.Variant) bool {
	v, ok := p["visible"]
	if !ok {
		return true
	}
	b, _ := v.Value().(bool)
	return b
}
