package openai

import (
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Model is one entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the answer of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// ModelFrom describes a local model; its owner is the organisation of its repo id.
func ModelFrom(m engine.ModelInfo) Model {
	owner := "local"
	if org, _, ok := strings.Cut(m.ID, "/"); ok && org != "" {
		owner = org
	}
	return Model{ID: m.ID, Object: "model", Created: m.Modified.Unix(), OwnedBy: owner}
}

// ProfileModel describes a profile, which requests may name as their model.
func ProfileModel(name string, created int64) Model {
	return Model{ID: name, Object: "model", Created: created, OwnedBy: "profile"}
}
