package hub_test

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// TestChangesSignalsEveryStep follows a download through Changes alone, never
// polling: each signal is read with List, and the watcher that never reads is
// not in the way (a signal coalesces, nothing blocks).
func TestChangesSignalsEveryStep(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/changes", 40)
	e := newEnv(t, "", repo)
	m := e.manager(t)
	changed, cancel := m.Changes()
	defer cancel()
	_, idle := m.Changes() // never read: must not block the download
	defer idle()

	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[hub.Status]bool{}
	for range changed {
		for _, p := range m.List() {
			if p.TaskID == task.ID() {
				seen[p.Status] = true
			}
		}
		if seen[hub.StatusCompleted] {
			break
		}
	}
	// Signals coalesce, so the intermediate statuses a reader sees depend on
	// its speed; the final one it always sees.
	if !seen[hub.StatusCompleted] {
		t.Errorf("statuses seen through Changes: %v", seen)
	}
	cancel()
	if _, open := <-changed; open {
		// A signal may be pending; after it the channel must be closed.
		if _, open := <-changed; open {
			t.Error("cancel did not close the channel")
		}
	}
}
