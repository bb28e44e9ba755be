package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// downloadJournal keeps the download manager's task records in the store
// (engine.DownloadJournal), so unfinished downloads continue after a restart.
// The store holds them as opaque JSON: engine does not depend on store, nor
// store on engine.
type downloadJournal struct{ recs store.Records }

func (j downloadJournal) Save(_ context.Context, rec engine.DownloadRecord) error {
	return j.recs.Put(rec.ID, rec)
}

func (j downloadJournal) Delete(_ context.Context, id string) error {
	return j.recs.Delete(id)
}

func (j downloadJournal) Load(_ context.Context) ([]engine.DownloadRecord, error) {
	raws, err := j.recs.All()
	if err != nil {
		return nil, err
	}
	out := make([]engine.DownloadRecord, 0, len(raws))
	for _, raw := range raws {
		var rec engine.DownloadRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("decode download record: %w", err)
		}
		out = append(out, rec)
	}
	return out, nil
}
