package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/store"
)

// downloadJournal keeps the download manager's task records in the store, so
// unfinished downloads continue after a restart. The store holds them as opaque
// JSON: engine does not depend on store, nor store on engine.
type downloadJournal struct{ recs store.Records }

func (j downloadJournal) Save(_ context.Context, rec hub.TaskRecord) error {
	return j.recs.Put(rec.ID, rec)
}

func (j downloadJournal) Delete(_ context.Context, id string) error {
	return j.recs.Delete(id)
}

func (j downloadJournal) Load(_ context.Context) ([]hub.TaskRecord, error) {
	raws, err := j.recs.All()
	if err != nil {
		return nil, err
	}
	out := make([]hub.TaskRecord, 0, len(raws))
	for _, raw := range raws {
		var rec hub.TaskRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("decode download record: %w", err)
		}
		out = append(out, rec)
	}
	return out, nil
}
