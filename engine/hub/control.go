package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// launchLocked starts a run of t on the manager's context. m.mu must be held (so Close
// cannot be waiting yet); it is a no-op if t is already running.
func (m *Manager) launchLocked(t *Task) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runningLocked() {
		return
	}
	ctx, cancel := context.WithCancelCause(m.base)
	done := make(chan struct{})
	t.cancel, t.done = cancel, done
	t.lastTick = time.Time{}
	for _, f := range t.files {
		if f.status == StatusFailed {
			f.status = StatusPending
		}
	}
	t.setStatusLocked(StatusDownloading, nil)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(done)
		m.run(ctx, t)
	}()
}

// run downloads t's files while publishing progress on a ticker, then settles the outcome.
func (m *Manager) run(ctx context.Context, t *Task) {
	result := make(chan error, 1)
	go func() { result <- m.download(ctx, t) }() // run always receives from result before returning
	tick := time.NewTicker(m.opts.ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			t.tick(now)
		case err := <-result:
			m.finish(ctx, t, err)
			return
		}
	}
}

// finish turns a run's result into the task's status, journal entry and cache state.
// The journal and the cache are settled before the status is published, so whoever
// sees the final status also sees them consistent.
func (m *Manager) finish(ctx context.Context, t *Task, err error) {
	cause := context.Cause(ctx)
	switch {
	case ctx.Err() != nil && errors.Is(cause, ErrClosed):
		// Shutdown: the journal still says downloading, so the next ResumeAll goes on.
		m.settle(t, StatusPaused, nil)
	case ctx.Err() != nil && errors.Is(cause, errPaused):
		m.saveAs(t, StatusPaused, nil)
		m.settle(t, StatusPaused, nil)
	case ctx.Err() != nil && errors.Is(cause, errCancelled):
		m.discard(t)
		m.unsave(t)
		m.settle(t, StatusCancelled, nil)
		m.retire(t)
	case err != nil:
		m.log.Warn("download failed", "model", t.repo, "task", t.id, "err", err)
		m.fail(t, fmt.Errorf("download %s: %w", t.repo, err))
	default:
		t.setStatus(StatusVerifying, nil)
		if err := m.cache.writeRef(t.repo, t.rev, t.commit); err != nil {
			m.fail(t, fmt.Errorf("download %s: %w", t.repo, err))
			return
		}
		m.log.Info("download completed", "model", t.repo, "task", t.id, "bytes", t.Progress().BytesTotal,
			"dur", time.Since(t.created).Round(time.Millisecond))
		m.unsave(t)
		m.settle(t, StatusCompleted, nil)
		m.retire(t)
	}
}

func (m *Manager) fail(t *Task, err error) {
	m.saveAs(t, StatusFailed, err)
	m.settle(t, StatusFailed, err)
}

// settle marks the run over and sets the status in one step, so a Subscribe in between
// never sees a finished status on a task that still looks running.
func (m *Manager) settle(t *Task, s Status, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancel != nil {
		t.cancel(nil)
		t.cancel = nil
	}
	t.setStatusLocked(s, err)
}

// discard deletes what a cancelled task leaves behind: partial blobs, and the new
// snapshot with the blobs only it used (unless refs/main already points at it).
func (m *Manager) discard(t *Task) {
	for _, f := range t.files {
		if _, partial, err := m.cache.blobPaths(t.repo, f.etag); err == nil {
			if err := os.Remove(partial); err != nil && !errors.Is(err, os.ErrNotExist) {
				m.log.Warn("remove partial download", "model", t.repo, "err", err)
			}
		}
		f.done.Store(0)
		f.verify = nil
	}
	if err := m.cache.discardSnapshot(t.repo, t.commit); err != nil {
		m.log.Warn("discard cancelled snapshot", "model", t.repo, "err", err)
	}
}

// retire frees the repo for a new Start and prunes old finished tasks.
func (m *Manager) retire(t *Task) {
	defer m.changes.notify() // after the unlock below: the list changed
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byRepo[t.repo] == t {
		delete(m.byRepo, t.repo)
	}
	var finished []*Task
	for _, o := range m.tasks {
		if o.Progress().Status.Final() && m.byRepo[o.repo] != o {
			finished = append(finished, o)
		}
	}
	for len(finished) > m.opts.KeepFinished {
		oldest := 0
		for i, o := range finished {
			if o.created.Before(finished[oldest].created) {
				oldest = i
			}
		}
		delete(m.tasks, finished[oldest].id)
		finished = append(finished[:oldest], finished[oldest+1:]...)
	}
}

// Pause stops a running task, keeping its partial files for Resume.
func (m *Manager) Pause(id string) error {
	t, err := m.Get(id)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if !t.runningLocked() {
		st := t.status
		t.mu.Unlock()
		if st == StatusPaused {
			return nil
		}
		return fmt.Errorf("pause %s: task is %s and not running: %w", id, st, ErrTransition)
	}
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	cancel(errPaused)
	<-done
	return nil
}

// Resume restarts a paused or failed task from where its files stopped.
func (m *Manager) Resume(ctx context.Context, id string) error {
	t, err := m.Get(id)
	if err != nil {
		return err
	}
	t.mu.Lock()
	running, st := t.runningLocked(), t.status
	t.mu.Unlock()
	if running {
		return nil
	}
	if to, err := Next(st, ActResume); err != nil || to != StatusDownloading {
		return fmt.Errorf("resume %s: task is %s and not running: %w", id, st, ErrTransition)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.syncFromDisk(t)
	if err := m.checkSpace(t); err != nil {
		return err
	}
	if err := m.checkCurrent(t); err != nil {
		return err
	}
	m.saveAs(t, StatusDownloading, nil) // before the run starts, so its final unsave cannot come first
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.tasks[t.id] != t { // ClearFinished dropped it meanwhile: take back the record
		defer m.unsave(t) // after the unlock (defers run last in, first out)
		return fmt.Errorf("%w: %q", ErrUnknownTask, id)
	}
	if cur := m.byRepo[t.repo]; cur != nil && cur != t {
		return fmt.Errorf("task %s: %s is downloaded by task %s now", t.id, t.repo, cur.id)
	}
	m.launchLocked(t)
	m.byRepo[t.repo] = t
	return nil
}

// Cancel stops a task and deletes its partial files. Cancelling a cancelled task is a no-op.
func (m *Manager) Cancel(id string) error {
	t, err := m.Get(id)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.runningLocked() {
		cancel, done := t.cancel, t.done
		t.mu.Unlock()
		cancel(errCancelled)
		<-done
		return nil
	}
	st := t.status
	t.mu.Unlock()
	switch st {
	case StatusCancelled:
		return nil
	case StatusPaused, StatusFailed:
		// A task that a newer Start replaced shares its partial files with that one:
		// cancelling it must not delete them.
		if m.checkCurrent(t) == nil {
			m.discard(t)
		}
		m.unsave(t)
		m.settle(t, StatusCancelled, nil)
		m.retire(t)
		return nil
	}
	return fmt.Errorf("cancel %s: task is %s and not running: %w", id, st, ErrTransition)
}

// checkCurrent fails when another task has taken over t's repo.
func (m *Manager) checkCurrent(t *Task) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.byRepo[t.repo]; cur != nil && cur != t {
		return fmt.Errorf("task %s: %s is downloaded by task %s now", t.id, t.repo, cur.id)
	}
	return nil
}
