package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

const poolSettingsDocument = "pool" // the audit target of a change

// poolConfig is the translation of the stored pool settings into the engine's
// pool config, over base, the daemon's own.
func poolConfig(ps store.PoolSettings, base engine.PoolConfig, totalRAM func() (int64, error)) (engine.PoolConfig, error) {
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

// LoadPoolConfig is base with the stored pool settings applied: what the daemon
// should create its pool with.
func LoadPoolConfig(st *store.Store, base engine.PoolConfig) (engine.PoolConfig, error) {
	set, found, err := st.Settings().Pool()
	if err != nil || !found {
		return base, err
	}
	return poolConfig(set, base, engine.TotalRAM)
}

// ApplyPoolSettings applies the stored pool settings to a running engine's pool
// over base, the config the pool was created with.
func ApplyPoolSettings(st *store.Store, e *engine.Engine, base engine.PoolConfig) error {
	set, found, err := st.Settings().Pool()
	if err != nil || !found {
		return err
	}
	cfg, err := poolConfig(set, base, engine.TotalRAM)
	if err != nil {
		return err
	}
	e.SetPoolConfig(cfg)
	e.SetParallel(set.Parallel)
	return nil
}

// poolSettingsView is the document plus what the pool runs with now.
type poolSettingsView struct {
	store.PoolSettings
	Effective poolEffective `json:"effective"`
}

type poolEffective struct {
	BudgetBytes       int64   `json:"budget_bytes"` // 0: no cap
	TotalRAMBytes     int64   `json:"total_ram_bytes"`
	MaxModels         int     `json:"max_models"`
	DefaultTTLSeconds float64 `json:"default_ttl_seconds"` // negative: forever
	Parallel          int     `json:"parallel"`
}

func (s *Server) viewPoolSettings(set store.PoolSettings) (poolSettingsView, error) {
	if set.EvictionPolicy == "" {
		set.EvictionPolicy = "lru"
	}
	v := poolSettingsView{PoolSettings: set}
	cfg, err := poolConfig(set, s.opts.PoolConfig, engine.TotalRAM)
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
	set, _, err := s.store.Settings().Pool()
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
	var set store.PoolSettings
	if err := decodeStrictJSON(c, &set); err != nil {
		return err
	}
	if err := set.Validate(); err != nil {
		return err
	}
	// A percentage needs the RAM size: refused before anything is stored when
	// this machine cannot tell it.
	cfg, err := poolConfig(set, s.opts.PoolConfig, engine.TotalRAM)
	if err != nil {
		return BadParam("budget", "%v: give the budget in bytes", err)
	}
	if set, err = s.store.Settings().PutPool(set); err != nil {
		return err
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
