package hub

import (
	"context"
	"errors"
	"fmt"
)

// saveAs writes the task's record to the journal with status s and error err instead
// of the current ones (unless s is ""), so the journal can be written before the
// status is published. Failures are logged, not fatal: the download itself is fine,
// only its survival across a restart is at risk.
func (m *Manager) saveAs(t *Task, s Status, err error) {
	if m.journal == nil {
		return
	}
	rec := t.record()
	if s != "" {
		rec.Status, rec.Error = s, ""
		if err != nil {
			rec.Error = err.Error()
		}
	}
	if err := m.journal.Save(m.base, rec); err != nil {
		m.log.Warn("download journal save failed", "model", t.repo, "task", t.id, "err", err)
	}
}

func (m *Manager) unsave(t *Task) {
	if m.journal == nil {
		return
	}
	if err := m.journal.Delete(m.base, t.id); err != nil {
		m.log.Warn("download journal delete failed", "model", t.repo, "task", t.id, "err", err)
	}
}

// ResumeAll restores the journaled tasks after a restart: unfinished downloads start
// again (from their partial files), paused and failed ones come back as they were.
// In offline mode unfinished downloads come back paused.
func (m *Manager) ResumeAll(ctx context.Context) error {
	if m.journal == nil {
		return nil
	}
	recs, err := m.journal.Load(ctx)
	if err != nil {
		return fmt.Errorf("resume downloads: %w", err)
	}
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.restore(ctx, rec)
	}
	return nil
}

func (m *Manager) restore(ctx context.Context, rec TaskRecord) {
	drop := func(why string, err error) {
		m.log.Warn("dropping journaled download", "task", rec.ID, "model", rec.Repo, "why", why, "err", err)
		if derr := m.journal.Delete(ctx, rec.ID); derr != nil {
			m.log.Warn("download journal delete failed", "task", rec.ID, "err", derr)
		}
	}
	if err := rec.validate(); err != nil {
		drop("invalid record", err)
		return
	}
	if rec.Status.Final() && rec.Status != StatusFailed {
		drop("finished", nil)
		return
	}
	m.mu.Lock()
	if m.closed || m.tasks[rec.ID] != nil || m.byRepo[rec.Repo] != nil {
		m.mu.Unlock()
		return
	}
	t := m.newTaskLocked(rec.Repo, rec.Revision, rec.ID, rec.CreatedAt)
	close(t.prepared)
	t.commit = rec.Commit
	for _, f := range rec.Files {
		t.files = append(t.files, &fileState{File: f, etag: f.Etag(), status: StatusPending})
	}
	if rec.Status == StatusFailed && rec.Error != "" {
		t.err = errors.New(rec.Error)
	}
	m.byRepo[rec.Repo] = t
	m.mu.Unlock()
	m.syncFromDisk(t)

	switch {
	case rec.Status == StatusPaused || rec.Status == StatusFailed:
		t.setStatus(rec.Status, t.Err())
	case m.client.Offline():
		t.setStatus(StatusPaused, nil)
	default:
		if err := m.checkSpace(t); err != nil {
			m.fail(t, err)
			return
		}
		m.mu.Lock()
		if !m.closed {
			m.launchLocked(t)
		}
		m.mu.Unlock()
		m.log.Info("resuming download", "model", t.repo, "task", t.id)
	}
}
