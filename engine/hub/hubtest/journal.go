package hubtest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// Journal is an in-memory hub.Journal. Reusing one Journal across two managers is how
// tests play a daemon restart.
type Journal struct {
	mu   sync.Mutex
	recs map[string]hub.TaskRecord
}

// NewJournal returns an empty journal.
func NewJournal() *Journal { return &Journal{recs: map[string]hub.TaskRecord{}} }

// Save implements hub.Journal.
func (j *Journal) Save(_ context.Context, rec hub.TaskRecord) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec.Files = slices.Clone(rec.Files)
	j.recs[rec.ID] = rec
	return nil
}

// Delete implements hub.Journal.
func (j *Journal) Delete(_ context.Context, id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.recs, id)
	return nil
}

// Load implements hub.Journal; records come sorted by id.
func (j *Journal) Load(context.Context) ([]hub.TaskRecord, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]hub.TaskRecord, 0, len(j.recs))
	for _, r := range j.recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b hub.TaskRecord) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
