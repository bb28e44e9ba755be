package hub

import (
	"context"
	"fmt"
	"time"
)

// Journal persists download tasks so unfinished ones continue after a restart. The
// daemon backs it with its bbolt store; hubtest has an in-memory one. Calls come from
// the manager's goroutines, so implementations must be safe for concurrent use.
type Journal interface {
	Save(ctx context.Context, rec TaskRecord) error // insert or replace by rec.ID
	Delete(ctx context.Context, id string) error    // no error when id is unknown
	Load(ctx context.Context) ([]TaskRecord, error)
}

// TaskRecord is what the journal keeps of a task: enough to resume it without asking
// the Hub again (the commit and every file with its size and checksum).
type TaskRecord struct {
	ID        string    `json:"id"`
	Repo      string    `json:"repo"`
	Revision  string    `json:"revision"`
	Commit    string    `json:"commit"`
	Status    Status    `json:"status"`
	Error     string    `json:"error,omitempty"`
	Files     []File    `json:"files"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// validate re-checks a record read back from storage before it drives any file access.
func (r TaskRecord) validate() error {
	if r.ID == "" {
		return fmt.Errorf("task record: empty id")
	}
	if err := checkRepoID(r.Repo); err != nil {
		return fmt.Errorf("task record %s: %w", r.ID, err)
	}
	if err := checkCommit(r.Commit); err != nil {
		return fmt.Errorf("task record %s: %w", r.ID, err)
	}
	for _, f := range r.Files {
		if err := checkFile(f); err != nil {
			return fmt.Errorf("task record %s: %w", r.ID, err)
		}
		if err := checkEtag(f.Etag()); err != nil {
			return fmt.Errorf("task record %s: %w", r.ID, err)
		}
	}
	return nil
}
