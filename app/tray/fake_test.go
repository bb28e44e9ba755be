package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// fakeControl is a daemon in memory: Load and Unload wait for the test to
// release them (gate), then change the pool and publish its events as the real
// pool does.
type fakeControl struct {
	mu        sync.Mutex
	models    []engine.ModelInfo
	pool      map[string]pool.ModelStatus
	downloads []hub.Progress
	pending   int
	loadErr   map[string]error
	calls     []string // "load x", "unload x", in order
	listings  int      // Models calls
	subs      []chan engine.Event
	userSubs  []chan struct{}
	gate      chan struct{} // nil: loads finish at once
}

func newFakeControl(models ...string) *fakeControl {
	f := &fakeControl{pool: map[string]pool.ModelStatus{}, loadErr: map[string]error{}}
	for _, id := range models {
		f.models = append(f.models, engine.ModelInfo{ID: id, Supported: true, SizeBytes: 1e6})
	}
	return f
}

func (f *fakeControl) Models(ctx context.Context) ([]engine.ModelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listings++
	return append([]engine.ModelInfo(nil), f.models...), nil
}

func (f *fakeControl) Status() []pool.ModelStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []pool.ModelStatus
	for _, s := range f.pool {
		out = append(out, s)
	}
	return out
}

func (f *fakeControl) Load(ctx context.Context, id string) error {
	f.record("load " + id)
	f.set(id, pool.StateLoading, pool.KindLoading)
	if err := f.wait(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	err := f.loadErr[id]
	f.mu.Unlock()
	if err != nil {
		f.remove(id, pool.KindError)
		return fmt.Errorf("load %s: %w", id, err)
	}
	f.set(id, pool.StateReady, pool.KindReady)
	return nil
}

func (f *fakeControl) Unload(ctx context.Context, id string) error {
	f.record("unload " + id)
	f.set(id, pool.StateUnloading, pool.KindUnloading)
	if err := f.wait(ctx); err != nil {
		return err
	}
	f.remove(id, pool.KindUnloaded)
	return nil
}

func (f *fakeControl) Subscribe() (<-chan engine.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan engine.Event, 64)
	f.subs = append(f.subs, ch)
	return ch, func() {}
}

func (f *fakeControl) Downloads() []hub.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]hub.Progress(nil), f.downloads...)
}

func (f *fakeControl) PendingUsers() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending, nil
}

func (f *fakeControl) UsersChanged() (<-chan struct{}, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{}, 1)
	f.userSubs = append(f.userSubs, ch)
	return ch, func() {}
}

// setPending changes the pending count and signals it, as the store does.
func (f *fakeControl) setPending(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = n
	for _, ch := range f.userSubs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already waiting: it covers this change
		}
	}
}

func (f *fakeControl) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeControl) wait(ctx context.Context) error {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate == nil {
		return nil
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// set puts a model in the pool in a state, as a load from anywhere would.
func (f *fakeControl) set(id string, st pool.State, k pool.Kind) {
	f.mu.Lock()
	s := f.pool[id]
	s.ID, s.State = id, st
	f.pool[id] = s
	f.mu.Unlock()
	f.publish(pool.Event{Kind: k, Model: id})
}

func (f *fakeControl) remove(id string, k pool.Kind) {
	f.mu.Lock()
	delete(f.pool, id)
	f.mu.Unlock()
	f.publish(pool.Event{Kind: k, Model: id})
}

func (f *fakeControl) publish(ev pool.Event) {
	f.send(engine.Event{Topic: engine.TopicModel, Model: ev})
}

// setDownloads changes the downloads and says so, as the engine does.
func (f *fakeControl) setDownloads(dls ...hub.Progress) {
	f.mu.Lock()
	f.downloads = dls
	f.mu.Unlock()
	f.send(engine.Event{Topic: engine.TopicDownloads})
}

func (f *fakeControl) send(ev engine.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- ev
	}
}

func (f *fakeControl) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeDesktop records what the tray asked of the desktop.
type fakeDesktop struct {
	mu      sync.Mutex
	opened  []string
	copied  []string
	notes   []string // "title: body"
	copyErr error
}

func (d *fakeDesktop) Open(url string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened = append(d.opened, url)
	return nil
}

func (d *fakeDesktop) Copy(text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.copied = append(d.copied, text)
	return d.copyErr
}

func (d *fakeDesktop) Notify(title, body string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notes = append(d.notes, title+": "+body)
	return nil
}

func (d *fakeDesktop) notifications() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.notes...)
}

type fakeLogin struct {
	mu  sync.Mutex
	on  bool
	err error
}

func (l *fakeLogin) Enabled() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on, nil
}

func (l *fakeLogin) SetEnabled(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.on = on
	return nil
}

// harness runs a loop with a recording drawer, a click channel and manual ticks.
type harness struct {
	t      *testing.T
	ctl    *fakeControl
	desk   *fakeDesktop
	login  *fakeLogin
	menus  chan Menu
	clicks chan string
	ticks  chan time.Time
	quit   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func startHarness(t *testing.T, ctl *fakeControl) *harness {
	t.Helper()
	h := &harness{
		t: t, ctl: ctl, desk: &fakeDesktop{}, login: &fakeLogin{},
		menus: make(chan Menu, 100), clicks: make(chan string), ticks: make(chan time.Time),
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	var once sync.Once
	l := newLoop(ctl, Options{
		URL: "http://127.0.0.1:8080", Desktop: h.desk, LoginItem: h.login, Logger: slog.New(slog.DiscardHandler),
		Quit: func() { once.Do(func() { close(h.quit) }) },
	}, func(m Menu) { h.menus <- m })
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		l.run(ctx, h.clicks, h.ticks)
	}()
	t.Cleanup(func() {
		cancel()
		<-h.done
	})
	return h
}

// waitMenu returns the first drawn menu that satisfies ok, failing the test
// if none comes: the loop draws after every change, so it must come.
func (h *harness) waitMenu(what string, ok func(Menu) bool) Menu {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-h.menus:
			if ok(m) {
				return m
			}
		case <-timeout:
			h.t.Fatalf("no menu with %s", what)
		}
	}
}

func (h *harness) click(id string) {
	h.t.Helper()
	select {
	case h.clicks <- id:
	case <-time.After(10 * time.Second):
		h.t.Fatalf("the loop does not take the click on %s", id)
	}
}

func (h *harness) tick() {
	h.t.Helper()
	select {
	case h.ticks <- time.Now():
	case <-time.After(10 * time.Second):
		h.t.Fatal("the loop does not take a tick")
	}
}

func find(m Menu, id string) (Item, bool) {
	for _, it := range m.Items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// has is a menu predicate: the item exists and passes ok.
func has(id string, ok func(Item) bool) func(Menu) bool {
	return func(m Menu) bool {
		it, found := find(m, id)
		return found && ok(it)
	}
}

var errNoMemory = errors.New("not enough memory")
