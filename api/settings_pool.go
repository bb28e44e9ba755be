package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

const (
	poolSettingsDocument = "pool"
	minPoolBudget        = 64 << 20
	maxPoolModels        = 64
	maxPoolTTLSeconds    = 30 * 24 * 3600
	maxParallel          = 64 // app/config's bound on --parallel
)

// PoolSettings is the "pool" settings document. Zero values keep the daemon's
// defaults (its flags, else the pool's own defaults).
type PoolSettings struct {
	Budget            *Budget `json:"budget"`              // null: the default (RAM minus a reserve)
	MaxModels         int     `json:"max_models"`          // 0: no cap
	DefaultTTLSeconds *int64  `json:"default_ttl_seconds"` // null: the default (30 minutes); -1: forever
	EvictionPolicy    string  `json:"eviction_policy"`     // "lru", the only policy
	Parallel          int     `json:"parallel,omitempty"`  // requests each model decodes together; 0: the daemon's --parallel
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

// validate checks the ranges; the error names the field.
func (ps PoolSettings) validate() *Error {
	if b := ps.Budget; b != nil {
		if b.Percent != 0 && (b.Percent < 1 || b.Percent > 100) {
			return BadParam("budget", "budget percentage must be between 1%% and 100%%")
		}
		if b.Percent == 0 && b.Bytes < minPoolBudget {
			return BadParam("budget", "budget must be at least %d bytes (64 MiB)", minPoolBudget)
		}
	}
	if ps.MaxModels < 0 || ps.MaxModels > maxPoolModels {
		return BadParam("max_models", "max_models must be between 0 (no limit) and %d", maxPoolModels)
	}
	if t := ps.DefaultTTLSeconds; t != nil && *t != -1 && (*t < 1 || *t > maxPoolTTLSeconds) {
		return BadParam("default_ttl_seconds", "default_ttl_seconds must be -1 (forever) or between 1 and %d", maxPoolTTLSeconds)
	}
	if ps.Parallel < 0 || ps.Parallel > maxParallel {
		return BadParam("parallel", "parallel must be between 0 (the daemon's setting) and %d", maxParallel)
	}
	if ps.EvictionPolicy != "" && ps.EvictionPolicy != "lru" {
		return BadParam("eviction_policy", "eviction_policy %q is not supported: the pool evicts least recently used models (lru)", ps.EvictionPolicy)
	}
	return nil
}

// config applies the settings over base, the daemon's own pool config.
func (ps PoolSettings) config(base engine.PoolConfig, totalRAM func() (int64, error)) (engine.PoolConfig, error) {
	cfg := base
	if b := ps.Budget; b != nil {
		cfg.BudgetBytes = b.Bytes
		if b.Percent > 0 {
			total, err := totalRAM()
			if err != nil {
				return engine.PoolConfig{}, fmt.Errorf("budget %g%%: %w", b.Percent, err)
			}
			cfg.BudgetBytes = int64(float64(total) * b.Percent / 100)
		}
	}
	cfg.MaxModels = ps.MaxModels
	if t := ps.DefaultTTLSeconds; t != nil {
		cfg.DefaultTTL = time.Duration(*t) * time.Second
		if *t < 0 {
			cfg.DefaultTTL = -1
		}
	}
	return cfg, nil
}

// loadPoolSettings reads the document; found is false when it was never set.
func loadPoolSettings(st *store.Store) (set PoolSettings, found bool, err error) {
	err = st.Settings().Get(poolSettingsDocument, &set)
	if errors.Is(err, store.ErrNotFound) {
		return PoolSettings{}, false, nil
	}
	if err != nil {
		return PoolSettings{}, false, fmt.Errorf("read pool settings: %w", err)
	}
	return set, true, nil
}

// LoadPoolConfig is base with the stored pool settings applied: what the daemon
// should create its pool with.
func LoadPoolConfig(st *store.Store, base engine.PoolConfig) (engine.PoolConfig, error) {
	set, found, err := loadPoolSettings(st)
	if err != nil || !found {
		return base, err
	}
	return set.config(base, engine.TotalRAM)
}

// ApplyPoolSettings applies the stored pool settings to a running engine's pool
// over base, the config the pool was created with.
func ApplyPoolSettings(st *store.Store, e *engine.Engine, base engine.PoolConfig) error {
	set, found, err := loadPoolSettings(st)
	if err != nil || !found {
		return err
	}
	cfg, err := set.config(base, engine.TotalRAM)
	if err != nil {
		return err
	}
	e.SetPoolConfig(cfg)
	e.SetParallel(set.Parallel)
	return nil
}

// poolSettingsView is the document plus what the pool runs with now.
type poolSettingsView struct {
	PoolSettings
	Effective poolEffective `json:"effective"`
}

type poolEffective struct {
	BudgetBytes       int64   `json:"budget_bytes"` // 0: no cap
	TotalRAMBytes     int64   `json:"total_ram_bytes"`
	MaxModels         int     `json:"max_models"`
	DefaultTTLSeconds float64 `json:"default_ttl_seconds"` // negative: forever
	Parallel          int     `json:"parallel"`
}

func (s *Server) viewPoolSettings(set PoolSettings) (poolSettingsView, error) {
	if set.EvictionPolicy == "" {
		set.EvictionPolicy = "lru"
	}
	v := poolSettingsView{PoolSettings: set}
	cfg, err := set.config(s.opts.PoolConfig, engine.TotalRAM)
	if err != nil {
		return v, err
	}
	ttl := cfg.DefaultTTL
	if ttl == 0 {
		ttl = engine.DefaultTTL
	}
	v.Effective.DefaultTTLSeconds = ttl.Seconds()
	if s.opts.Engine != nil {
		mem := s.opts.Engine.Memory()
		v.Effective.BudgetBytes, v.Effective.TotalRAMBytes, v.Effective.MaxModels = mem.BudgetBytes, mem.TotalRAMBytes, mem.MaxModels
		v.Effective.Parallel = s.opts.Engine.Parallel()
	}
	return v, nil
}

func (s *Server) handleGetPoolSettings(c echo.Context) error {
	set, _, err := loadPoolSettings(s.store)
	if err != nil {
		return err
	}
	v, err := s.viewPoolSettings(set)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// handlePutPoolSettings replaces the document, then applies it to the running pool
// at once (evicting idle models if the pool is now over its limits).
func (s *Server) handlePutPoolSettings(c echo.Context) error {
	var set PoolSettings
	if err := decodeStrictJSON(c, &set); err != nil {
		return err
	}
	if err := set.validate(); err != nil {
		return err
	}
	if set.EvictionPolicy == "" {
		set.EvictionPolicy = "lru"
	}
	cfg, err := set.config(s.opts.PoolConfig, engine.TotalRAM)
	if err != nil {
		return BadParam("budget", "%v: give the budget in bytes", err)
	}
	if err := s.store.Settings().Put(poolSettingsDocument, set); err != nil {
		return fmt.Errorf("store pool settings: %w", err)
	}
	if s.opts.Engine != nil {
		s.opts.Engine.SetPoolConfig(cfg)
		s.opts.Engine.SetParallel(set.Parallel)
	}
	detail, _ := json.Marshal(set)
	s.audit(c, store.AuditEvent{Action: "settings.update", Target: poolSettingsDocument, Detail: string(detail)})
	v, err := s.viewPoolSettings(set)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
