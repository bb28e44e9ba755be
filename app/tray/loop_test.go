package tray

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

const tiny = "test/tiny"

func TestClickLoadsThenUnloads(t *testing.T) {
	ctl := newFakeControl(tiny)
	ctl.gate = make(chan struct{})
	h := startHarness(t, ctl)
	h.waitMenu("the model unchecked", has(PrefixModel+tiny, func(it Item) bool { return !it.Checked && !it.Disabled }))

	h.click(PrefixModel + tiny)
	m := h.waitMenu("Loading…", has(PrefixModel+tiny, func(it Item) bool { return strings.HasSuffix(it.Title, "Loading…") }))
	if it, _ := find(m, PrefixModel+tiny); !it.Disabled || it.Checked {
		t.Fatalf("a loading model must be disabled and unchecked: %+v", it)
	}
	if m.Icon != IconBusy {
		t.Fatalf("icon %s while loading, want busy", m.Icon)
	}
	h.click(PrefixModel + tiny) // ignored: it is already loading
	ctl.gate <- struct{}{}
	m = h.waitMenu("the model checked", has(PrefixModel+tiny, func(it Item) bool { return it.Checked && !it.Disabled }))
	if m.Icon != IconLoaded {
		t.Fatalf("icon %s with a model loaded, want loaded", m.Icon)
	}

	h.click(PrefixModel + tiny)
	h.waitMenu("Unloading…", has(PrefixModel+tiny, func(it Item) bool { return strings.HasSuffix(it.Title, "Unloading…") }))
	ctl.gate <- struct{}{}
	m = h.waitMenu("the model unloaded", has(PrefixModel+tiny, func(it Item) bool { return !it.Checked && !it.Disabled }))
	if m.Icon != IconIdle {
		t.Fatalf("icon %s after unloading, want idle", m.Icon)
	}
	if got, want := ctl.callLog(), []string{"load " + tiny, "unload " + tiny}; !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if n := h.desk.notifications(); len(n) != 0 {
		t.Fatalf("notifications on success: %q", n)
	}
}

func TestFailedLoadNotifies(t *testing.T) {
	ctl := newFakeControl(tiny)
	ctl.loadErr[tiny] = errNoMemory
	h := startHarness(t, ctl)
	h.waitMenu("the model", has(PrefixModel+tiny, func(Item) bool { return true }))
	h.click(PrefixModel + tiny)
	h.waitMenu("Loading…", has(PrefixModel+tiny, func(it Item) bool { return it.Disabled }))
	h.waitMenu("the model back to unloaded", has(PrefixModel+tiny, func(it Item) bool {
		return !it.Checked && !it.Disabled && it.Title == tiny
	}))
	notes := h.desk.notifications()
	if len(notes) != 1 || !strings.Contains(notes[0], "Could not load "+tiny) || !strings.Contains(notes[0], errNoMemory.Error()) {
		t.Fatalf("notifications %q, want one naming the model and the error", notes)
	}
}

// A load from the web UI or the API shows at once, through the pool's events.
func TestPoolEventsFromElsewhere(t *testing.T) {
	ctl := newFakeControl(tiny, "test/other")
	h := startHarness(t, ctl)
	h.waitMenu("both models", has(PrefixModel+"test/other", func(Item) bool { return true }))
	ctl.set("test/other", pool.StateLoading, pool.KindLoading)
	h.waitMenu("other loading", has(PrefixModel+"test/other", func(it Item) bool { return it.Disabled && strings.Contains(it.Title, "Loading") }))
	ctl.set("test/other", pool.StateReady, pool.KindReady)
	h.waitMenu("other loaded", has(PrefixModel+"test/other", func(it Item) bool { return it.Checked }))
}

func TestFinishedDownloadListsTheModel(t *testing.T) {
	ctl := newFakeControl(tiny)
	ctl.downloads = []hub.Progress{{TaskID: "t1", Repo: "org/new", Status: hub.StatusDownloading, BytesDone: 30, BytesTotal: 120}}
	h := startHarness(t, ctl)
	m := h.waitMenu("the download", has(PrefixDownload+"t1", func(it Item) bool { return it.Title == "org/new — 25%" }))
	if m.Icon != IconDownloading || m.Title != "25%" {
		t.Fatalf("icon %s title %q while downloading, want downloading and 25%%", m.Icon, m.Title)
	}
	ctl.mu.Lock()
	ctl.downloads[0].Status, ctl.downloads[0].BytesDone = hub.StatusCompleted, 120
	ctl.models = append(ctl.models, engine.ModelInfo{ID: "org/new", Supported: true})
	ctl.mu.Unlock()
	h.tick() // the first tick after completion lists the models dir again
	m = h.waitMenu("the new model", has(PrefixModel+"org/new", func(Item) bool { return true }))
	if _, ok := find(m, PrefixDownload+"t1"); ok {
		t.Fatal("a completed download still shows")
	}
}

// Downloads follow the engine's events: progress and completion show without
// a tick, and a completed download lists its model at once.
func TestDownloadsFollowEvents(t *testing.T) {
	ctl := newFakeControl(tiny)
	h := startHarness(t, ctl)
	h.waitMenu("the model", has(PrefixModel+tiny, func(Item) bool { return true }))
	ctl.setDownloads(hub.Progress{TaskID: "t2", Repo: "org/ev", Status: hub.StatusDownloading, BytesDone: 60, BytesTotal: 120})
	h.waitMenu("the download", has(PrefixDownload+"t2", func(it Item) bool { return it.Title == "org/ev — 50%" }))
	ctl.mu.Lock()
	ctl.models = append(ctl.models, engine.ModelInfo{ID: "org/ev", Supported: true})
	ctl.mu.Unlock()
	ctl.setDownloads(hub.Progress{TaskID: "t2", Repo: "org/ev", Status: hub.StatusCompleted, BytesDone: 120, BytesTotal: 120})
	m := h.waitMenu("the new model", has(PrefixModel+"org/ev", func(Item) bool { return true }))
	if _, ok := find(m, PrefixDownload+"t2"); ok {
		t.Fatal("a completed download still shows")
	}
}

func TestModelsDirIsListedPeriodically(t *testing.T) {
	ctl := newFakeControl(tiny)
	h := startHarness(t, ctl)
	h.waitMenu("the model", has(PrefixModel+tiny, func(Item) bool { return true }))
	ctl.mu.Lock()
	ctl.models = nil // deleted from the dashboard
	ctl.mu.Unlock()
	for range modelsEvery {
		h.tick()
	}
	h.waitMenu("no models", has("models-none", func(Item) bool { return true }))
}

func TestPendingUsersOpenUsersPage(t *testing.T) {
	ctl := newFakeControl()
	h := startHarness(t, ctl)
	h.waitMenu("the first menu", func(Menu) bool { return true })
	ctl.setPending(2) // no tick: the change itself updates the menu
	h.waitMenu("pending users", has(IDUsers, func(it Item) bool { return strings.HasPrefix(it.Title, "2 users") }))
	h.click(IDUsers)
	h.click(IDOpen)
	h.click(IDCopy)
	h.click(PrefixDownload + "t9")
	h.cancel()
	<-h.done
	want := []string{"http://127.0.0.1:8080/users", "http://127.0.0.1:8080", "http://127.0.0.1:8080/models"}
	if !slices.Equal(h.desk.opened, want) {
		t.Fatalf("opened %q, want %q", h.desk.opened, want)
	}
	if !slices.Equal(h.desk.copied, []string{"http://127.0.0.1:8080/v1"}) {
		t.Fatalf("copied %q, want the /v1 URL", h.desk.copied)
	}
}

func TestFailedCopyNotifies(t *testing.T) {
	ctl := newFakeControl()
	h := startHarness(t, ctl)
	h.desk.copyErr = errNoMemory
	h.waitMenu("the first menu", func(Menu) bool { return true })
	h.click(IDCopy)
	h.cancel()
	<-h.done
	if n := h.desk.notifications(); len(n) != 1 || !strings.Contains(n[0], "copy the API URL") {
		t.Fatalf("notifications %q, want one about the copy", n)
	}
}

func TestLaunchAtLoginToggles(t *testing.T) {
	h := startHarness(t, newFakeControl())
	h.waitMenu("login unchecked", has(IDLogin, func(it Item) bool { return !it.Checked }))
	h.click(IDLogin)
	h.waitMenu("login checked", has(IDLogin, func(it Item) bool { return it.Checked }))
	h.login.mu.Lock()
	h.login.err = errNoMemory
	h.login.mu.Unlock()
	h.click(IDLogin)
	h.click(IDOpen) // the loop has handled the failed toggle once it takes this
	if n := h.desk.notifications(); len(n) != 1 || !strings.Contains(n[0], "Launch at Login") {
		t.Fatalf("notifications %q, want one about Launch at Login", n)
	}
	if on, _ := h.login.Enabled(); !on {
		t.Fatal("a failed toggle changed the item")
	}
}

func TestQuitEndsTheLoop(t *testing.T) {
	h := startHarness(t, newFakeControl())
	h.waitMenu("the first menu", func(Menu) bool { return true })
	h.click(IDQuit)
	<-h.quit
	<-h.done
}

// Shutting down while a load waits cancels it and waits for its goroutine.
func TestCancelStopsLoadsInFlight(t *testing.T) {
	ctl := newFakeControl(tiny)
	ctl.gate = make(chan struct{}) // never released
	h := startHarness(t, ctl)
	h.waitMenu("the model", has(PrefixModel+tiny, func(Item) bool { return true }))
	h.click(PrefixModel + tiny)
	h.waitMenu("Loading…", has(PrefixModel+tiny, func(it Item) bool { return it.Disabled }))
	h.cancel()
	<-h.done
	if n := h.desk.notifications(); len(n) != 0 {
		t.Fatalf("a load cancelled by shutdown notified: %q", n)
	}
}

// Polls that change nothing draw nothing: each draw is D-Bus traffic or a
// main-thread call.
func TestUnchangedStateIsNotRedrawn(t *testing.T) {
	h := startHarness(t, newFakeControl(tiny))
	h.waitMenu("the first menu", func(Menu) bool { return true })
	for range 3 {
		h.tick()
	}
	h.click(IDOpen) // handled after the ticks
	select {
	case m := <-h.menus:
		t.Fatalf("redrawn without a change: %+v", m)
	default:
	}
}
