package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The pool settings' bounds.
const (
	settingPool       = "pool"
	MinPoolBudget     = 64 << 20
	MaxPoolModels     = 64
	MaxPoolTTLSeconds = 30 * 24 * 3600
	MaxParallel       = 64 // app/config's bound on --parallel
)

// PoolSettings is the "pool" settings document: the model pool's limits as an
// admin set them in the UI. Zero values keep the daemon's defaults (its flags,
// else the pool's own defaults); the API turns the document into the engine's
// pool config.
type PoolSettings struct {
	Budget            *Budget `json:"budget" jsonschema:"nullable"`              // null: the default (RAM minus a reserve)
	MaxModels         int     `json:"max_models"`                                // 0: no cap
	DefaultTTLSeconds *int64  `json:"default_ttl_seconds" jsonschema:"nullable"` // null: the default (30 minutes); -1: forever
	EvictionPolicy    string  `json:"eviction_policy"`                           // "lru", the only policy
	Parallel          int     `json:"parallel,omitempty"`                        // requests each model decodes together; 0: the daemon's --parallel
}

// Budget is a memory budget in bytes, or a percentage of physical RAM.
type Budget struct {
	Bytes   int64
	Percent float64
}

// MarshalJSON writes bytes as a number and a percentage as "70%".
func (b Budget) MarshalJSON() ([]byte, error) {
	if b.Percent > 0 {
		return json.Marshal(strconv.FormatFloat(b.Percent, 'f', -1, 64) + "%")
	}
	return json.Marshal(b.Bytes)
}

// UnmarshalJSON reads a number of bytes, "8589934592" or "70%".
func (b *Budget) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	} else {
		s = string(data)
	}
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return fmt.Errorf("budget %q: want bytes or a percentage such as \"70%%\"", s)
		}
		*b = Budget{Percent: v}
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("budget %q: want bytes or a percentage such as \"70%%\"", s)
	}
	*b = Budget{Bytes: n}
	return nil
}

// Validate checks the ranges; the error is a *SettingError naming the field.
func (ps PoolSettings) Validate() error {
	if b := ps.Budget; b != nil {
		if b.Percent != 0 && (b.Percent < 1 || b.Percent > 100) {
			return &SettingError{"budget", "budget percentage must be between 1% and 100%"}
		}
		if b.Percent == 0 && b.Bytes < MinPoolBudget {
			return &SettingError{"budget", fmt.Sprintf("budget must be at least %d bytes (64 MiB)", MinPoolBudget)}
		}
	}
	if ps.MaxModels < 0 || ps.MaxModels > MaxPoolModels {
		return &SettingError{"max_models", fmt.Sprintf("max_models must be between 0 (no limit) and %d", MaxPoolModels)}
	}
	if t := ps.DefaultTTLSeconds; t != nil && *t != -1 && (*t < 1 || *t > MaxPoolTTLSeconds) {
		return &SettingError{"default_ttl_seconds", fmt.Sprintf("default_ttl_seconds must be -1 (forever) or between 1 and %d", MaxPoolTTLSeconds)}
	}
	if ps.Parallel < 0 || ps.Parallel > MaxParallel {
		return &SettingError{"parallel", fmt.Sprintf("parallel must be between 0 (the daemon's setting) and %d", MaxParallel)}
	}
	if ps.EvictionPolicy != "" && ps.EvictionPolicy != "lru" {
		return &SettingError{"eviction_policy", fmt.Sprintf("eviction_policy %q is not supported: the pool evicts least recently used models (lru)", ps.EvictionPolicy)}
	}
	return nil
}

// Pool reads the pool settings; found is false when they were never set.
func (st Settings) Pool() (set PoolSettings, found bool, err error) {
	err = st.Get(settingPool, &set)
	if errors.Is(err, ErrNotFound) {
		return PoolSettings{}, false, nil
	}
	if err != nil {
		return PoolSettings{}, false, fmt.Errorf("read pool settings: %w", err)
	}
	return set, true, nil
}

// PutPool validates and stores the pool settings, with the eviction policy
// spelt out ("lru") when it was left empty, and returns what it stored.
func (st Settings) PutPool(set PoolSettings) (PoolSettings, error) {
	if err := set.Validate(); err != nil {
		return set, err
	}
	if set.EvictionPolicy == "" {
		set.EvictionPolicy = "lru"
	}
	if err := st.Put(settingPool, set); err != nil {
		return set, fmt.Errorf("store pool settings: %w", err)
	}
	return set, nil
}
