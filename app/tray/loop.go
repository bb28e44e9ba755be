package tray

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
)

// modelsEvery is how many polls pass between listings of the models dir, which
// reads every model's config.json; a finished download lists it at once.
const modelsEvery = 5

// opResult is the end of a load or unload started from the menu.
type opResult struct {
	id  string
	op  Op
	err error
}

// loop owns the menu state: one goroutine reads pool events, clicks, op results
// and poll ticks, updates the state and draws the menu when it changed (the
// event loop of Tailscale's client/systray, in one process).
type loop struct {
	ctl  Control
	opts Options
	draw func(Menu)

	state   State
	last    Menu
	drawn   bool
	polls   int
	done    map[string]bool // download tasks seen in a final status
	results chan opResult
	ops     sync.WaitGroup
}

func newLoop(ctl Control, opts Options, draw func(Menu)) *loop {
	opts.fill()
	return &loop{
		ctl: ctl, opts: opts, draw: draw,
		state:   State{URL: opts.URL, LoginOffered: opts.LoginItem != nil, Ops: map[string]Op{}},
		done:    map[string]bool{},
		results: make(chan opResult),
	}
}

// run serves the menu until ctx ends or the user quits. Loads and unloads still
// running then are cancelled and waited for.
func (l *loop) run(ctx context.Context, clicks <-chan string, ticks <-chan time.Time) {
	events, cancel := l.ctl.Subscribe()
	defer cancel()
	users, stopUsers := l.ctl.UsersChanged()
	defer stopUsers()
	l.readPending() // after subscribing, so no change falls between
	opCtx, stopOps := context.WithCancel(ctx)
	defer l.ops.Wait()
	defer stopOps()

	l.refreshModels(ctx)
	l.poll()
	l.redraw()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil // the engine shut down: the daemon is stopping
				continue
			}
			l.event(ctx, ev)
		case _, ok := <-users:
			if !ok {
				users = nil
				continue
			}
			l.readPending()
		case id := <-clicks:
			if l.click(opCtx, id) {
				return
			}
		case r := <-l.results:
			l.finish(ctx, r)
		case <-ticks:
			l.poll()
			if l.polls++; l.polls%modelsEvery == 0 || l.newlyFinished() {
				l.refreshModels(ctx)
			}
		}
		l.redraw()
	}
}

// event reads again what an engine event says changed: the pool, or the
// downloads (and the models dir once one completed). Lost events mean both.
func (l *loop) event(ctx context.Context, ev engine.Event) {
	if ev.Topic == engine.TopicModel || ev.Lost {
		l.state.Pool = l.ctl.Status()
	}
	if ev.Topic == engine.TopicDownloads || ev.Lost {
		l.state.Downloads = l.ctl.Downloads()
		if l.newlyFinished() {
			l.refreshModels(ctx)
		}
	}
}

func (l *loop) redraw() {
	m := Build(l.state)
	if l.drawn && reflect.DeepEqual(m, l.last) {
		return
	}
	l.last, l.drawn = m, true
	l.draw(m)
}

// poll reads what changes without an event: request counts; the pool and the
// downloads too, in case an event was missed at start. The pending count is
// read when subscribed and then on account changes only (readPending).
func (l *loop) poll() {
	l.state.Pool = l.ctl.Status()
	l.state.Downloads = l.ctl.Downloads()
}

// readPending reads the number of accounts waiting for approval.
func (l *loop) readPending() {
	n, err := l.ctl.PendingUsers()
	if err != nil {
		l.opts.Logger.Debug("tray: count pending users", "err", err)
	} else {
		l.state.Pending = n
	}
}

// newlyFinished reports a download that completed (or ended) since the last
// poll, so its model shows in the list without waiting for the next listing.
func (l *loop) newlyFinished() bool {
	found := false
	for _, p := range l.state.Downloads {
		if p.Status.Final() && !l.done[p.TaskID] {
			l.done[p.TaskID] = true
			found = found || p.Status == engine.DownloadCompleted
		}
	}
	return found
}

func (l *loop) refreshModels(ctx context.Context) {
	models, err := l.ctl.Models(ctx)
	if err != nil {
		l.state.ModelsErr = err.Error()
		l.opts.Logger.Warn("tray: list models", "err", err)
	} else {
		l.state.Models, l.state.ModelsErr = models, ""
	}
	if l.opts.LoginItem != nil {
		on, err := l.opts.LoginItem.Enabled()
		if err != nil {
			l.opts.Logger.Warn("tray: launch at login", "err", err)
		}
		l.state.LoginOn = on
	}
}

// click handles one menu click; it reports whether the user quit.
func (l *loop) click(ctx context.Context, id string) (quit bool) {
	d := l.opts.Desktop
	switch {
	case id == IDOpen:
		l.effect("open the dashboard", d.Open(l.opts.URL))
	case id == IDCopy:
		l.effect("copy the API URL", d.Copy(l.opts.URL+"/v1"))
	case id == IDUsers:
		l.effect("open the Users page", d.Open(l.opts.URL+"/users"))
	case strings.HasPrefix(id, PrefixDownload):
		l.effect("open the Models page", d.Open(l.opts.URL+"/models"))
	case id == IDLogin && l.opts.LoginItem != nil:
		l.effect("change Launch at Login", l.opts.LoginItem.SetEnabled(!l.state.LoginOn))
		l.refreshModels(ctx)
	case id == IDQuit:
		l.opts.Logger.Info("quit from the menu bar")
		l.opts.Quit()
		return true
	case strings.HasPrefix(id, PrefixModel):
		l.toggle(ctx, strings.TrimPrefix(id, PrefixModel))
	}
	return false
}

// effect reports a failed desktop action: the user clicked and nothing happened.
func (l *loop) effect(what string, err error) {
	if err == nil {
		return
	}
	l.opts.Logger.Warn("tray: could not "+what, "err", err)
	if nerr := l.opts.Desktop.Notify("MLX Manager", "Could not "+what+": "+err.Error()); nerr != nil {
		l.opts.Logger.Debug("tray: notify", "err", nerr)
	}
}

// toggle loads or unloads a model in the background; the menu shows
// "Loading…" meanwhile. A click on a model already changing is ignored.
func (l *loop) toggle(ctx context.Context, id string) {
	if _, busy := l.state.Ops[id]; busy {
		return
	}
	op, call := OpLoad, l.ctl.Load
	for _, st := range l.state.Pool {
		if st.ID == id && st.State != "" {
			if st.State != engine.StateReady {
				return // loading or unloading already, started elsewhere
			}
			op, call = OpUnload, l.ctl.Unload
		}
	}
	l.state.Ops[id] = op
	l.opts.Logger.Info("tray: "+string(op), "model", id)
	l.ops.Add(1)
	go func() {
		defer l.ops.Done()
		err := call(ctx, id)
		select {
		case l.results <- opResult{id: id, op: op, err: err}:
		case <-ctx.Done():
		}
	}()
}

func (l *loop) finish(ctx context.Context, r opResult) {
	delete(l.state.Ops, r.id)
	l.state.Pool = l.ctl.Status()
	if r.err == nil || errors.Is(r.err, context.Canceled) && ctx.Err() != nil {
		return
	}
	l.opts.Logger.Warn("tray: "+string(r.op)+" failed", "model", r.id, "err", r.err)
	title := fmt.Sprintf("Could not %s %s", r.op, r.id)
	if err := l.opts.Desktop.Notify(title, r.err.Error()); err != nil {
		l.opts.Logger.Debug("tray: notify", "err", err)
	}
}
