package hub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Task is one repo download owned by a Manager. Its methods are safe for concurrent use.
type Task struct {
	m       *Manager
	id      string
	repo    string
	rev     string
	created time.Time

	prepared chan struct{} // closed when the Hub metadata is in (or failed: prepErr)
	prepErr  error         // written before prepared is closed

	mu       sync.Mutex // guards the fields below
	commit   string
	files    []*fileState
	status   Status
	err      error
	updated  time.Time
	speed    float64 // bytes/s moving average
	lastDone int64
	lastTick time.Time
	subs     subscribers
	cancel   context.CancelCauseFunc // of the current run; nil when not running
	done     chan struct{}           // closed when the current run has ended
}

// fileState is one file of a task.
type fileState struct {
	File
	etag   string
	done   atomic.Int64 // bytes on disk for this file
	status Status       // guarded by Task.mu
	// verify is only touched by the goroutine fetching this file.
	verify *verifier
}

// ID is the task's id (stable across restarts through the journal).
func (t *Task) ID() string { return t.id }

// Repo is the repo being downloaded.
func (t *Task) Repo() string { return t.repo }

// Err is why the task failed, nil otherwise.
func (t *Task) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Progress returns a snapshot of the task.
func (t *Task) Progress() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progressLocked()
}

// Subscribe returns a channel that first receives the current progress, then updates.
// It never blocks the download: a slow reader misses intermediate updates but always
// receives the final one, after which the channel is closed. cancel stops the
// subscription; it is safe to call more than once.
func (t *Task) Subscribe() (<-chan Progress, func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ch := t.subs.add(t.progressLocked())
	// A stopped task sends nothing more: a finished one, or any once the manager is closed.
	if (t.status.Final() && t.cancel == nil) || t.m.base.Err() != nil {
		t.subs.remove(id)
		return ch, func() {}
	}
	return ch, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.subs.remove(id)
	}
}

// Wait blocks until the task reaches a final status and returns its last progress and
// its error: nil when completed, the failure when failed, context.Canceled when
// cancelled. It returns ErrClosed if the manager shuts down first; a paused task keeps
// it waiting.
func (t *Task) Wait(ctx context.Context) (Progress, error) {
	ch, cancel := t.Subscribe()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return t.Progress(), ctx.Err()
		case p, ok := <-ch:
			if !ok {
				return t.Progress(), ErrClosed
			}
			if p.Status.Final() {
				if p.Status == StatusCancelled {
					return p, context.Canceled
				}
				return p, t.Err()
			}
		}
	}
}

func (t *Task) progressLocked() Progress {
	p := Progress{
		TaskID:    t.id,
		Repo:      t.repo,
		Revision:  t.rev,
		Commit:    t.commit,
		Status:    t.status,
		Speed:     t.speed,
		CreatedAt: t.created,
		UpdatedAt: t.updated,
		Files:     make([]FileProgress, len(t.files)),
	}
	for i, f := range t.files {
		d := f.done.Load()
		p.Files[i] = FileProgress{Path: f.Path, Size: f.Size, Done: d, Status: f.status}
		p.BytesDone += d
		p.BytesTotal += f.Size
	}
	if t.err != nil {
		p.Error = t.err.Error()
	}
	if p.Status == StatusDownloading && t.speed > 1 {
		p.ETA = time.Duration(float64(p.BytesTotal-p.BytesDone) / t.speed * float64(time.Second))
	}
	return p
}

// setStatus records a task status change and tells subscribers; final statuses end
// every subscription after the final value.
func (t *Task) setStatus(s Status, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setStatusLocked(s, err)
}

func (t *Task) setStatusLocked(s Status, err error) {
	t.status = s
	t.err = err
	t.updated = time.Now()
	if s != StatusDownloading {
		t.speed = 0
	}
	t.subs.send(t.progressLocked())
	t.changed()
	if s.Final() {
		t.subs.closeAll()
	}
}

func (t *Task) setFileStatus(f *fileState, s Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f.status = s
	t.subs.send(t.progressLocked())
	t.changed()
}

// tick updates the speed average and publishes progress; called by the run's ticker.
func (t *Task) tick(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var done int64
	for _, f := range t.files {
		done += f.done.Load()
	}
	if !t.lastTick.IsZero() {
		if dt := now.Sub(t.lastTick).Seconds(); dt > 0 {
			inst := float64(done-t.lastDone) / dt
			if t.speed == 0 {
				t.speed = inst
			} else {
				t.speed = speedAlpha*inst + (1-speedAlpha)*t.speed
			}
		}
	}
	t.lastDone, t.lastTick = done, now
	t.subs.send(t.progressLocked())
	t.changed()
}

// record is the journal entry for the task's current state.
func (t *Task) record() TaskRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := TaskRecord{ID: t.id, Repo: t.repo, Revision: t.rev, Commit: t.commit, Status: t.status,
		CreatedAt: t.created, UpdatedAt: t.updated}
	if t.err != nil {
		r.Error = t.err.Error()
	}
	for _, f := range t.files {
		r.Files = append(r.Files, f.File)
	}
	return r
}

// running reports whether a run goroutine is live.
func (t *Task) runningLocked() bool { return t.cancel != nil }

// changed tells the manager's watchers (a Task made without one, in tests,
// has none).
func (t *Task) changed() {
	if t.m != nil {
		t.m.changes.notify()
	}
}
