package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// A "server" is a model in the pool: loading, ready or unloading. There are no
// processes; the name is the UI's.

// serverView is one model in the pool.
type serverView struct {
	Model         string            `json:"model"`
	State         engine.ModelState `json:"state"`
	MemoryBytes   int64             `json:"memory_bytes"`   // charged against the budget: weights and the KV cache held
	ResidentBytes int64             `json:"resident_bytes"` // measured after load
	EstimateBytes int64             `json:"estimate_bytes"`
	LoadedAt      time.Time         `json:"loaded_at,omitzero"`
	UptimeSeconds float64           `json:"uptime_seconds"`
	LastUsed      time.Time         `json:"last_used,omitzero"`
	InFlight      int               `json:"in_flight"`
	Queued        int               `json:"queued"`
	Pinned        bool              `json:"pinned"`
	TTLSeconds    float64           `json:"ttl_seconds"`         // negative: forever
	ExpiresAt     time.Time         `json:"expires_at,omitzero"` // zero: busy, pinned or kept forever
	Profiles      []string          `json:"profiles"`            // names of the profiles using this model
	LastRequest   *lastRequest      `json:"last_request,omitempty"`
	Serving       *servingView      `json:"serving,omitempty"` // ready models: how requests run together
}

// servingView is a loaded model's scheduler and prefix cache.
type servingView struct {
	Slots         int     `json:"slots"`
	Running       int     `json:"running"`
	Waiting       int     `json:"waiting"`
	BatchSize     int     `json:"batch_size"` // sequences in the last step
	MeanBatch     float64 `json:"mean_batch"`
	PrefixHitRate float64 `json:"prefix_hit_rate"` // 0 to 1
	CachedTokens  uint64  `json:"prefix_cached_tokens"`
	PrefixSeqs    int     `json:"prefix_sequences"`
	PrefixKVBytes int64   `json:"prefix_kv_bytes"`
}

// lastRequest is the model's last finished generation, when the engine reports it.
type lastRequest struct {
	TokensPerSecond float64   `json:"tokens_per_second"`
	FinishedAt      time.Time `json:"finished_at"`
}

type serversOverview struct {
	Servers []serverView        `json:"servers"`
	Memory  engine.MemoryStatus `json:"memory"`
}

func (s *Server) needEngine() (*engine.Engine, error) {
	if s.opts.Engine == nil {
		return nil, errNoEngine()
	}
	return s.opts.Engine, nil
}

// servers lists the pool's models with the profiles that use them.
func (s *Server) servers(e *engine.Engine) ([]serverView, error) {
	profiles, err := s.store.Profiles().List()
	if err != nil {
		return nil, err
	}
	byModel := map[string][]string{}
	for _, p := range profiles {
		byModel[p.Model] = append(byModel[p.Model], p.Name)
	}
	status := e.Status()
	serving := map[string]engine.ServingStats{}
	for _, sv := range e.Serving() {
		serving[sv.Model] = sv
	}
	out := make([]serverView, 0, len(status))
	for _, st := range status {
		v := viewServer(st)
		if names := byModel[st.ID]; names != nil {
			v.Profiles = names
		}
		if tps, at, ok := e.LastRequest(st.ID); ok {
			v.LastRequest = &lastRequest{TokensPerSecond: tps, FinishedAt: at}
		}
		if sv, ok := serving[st.ID]; ok {
			v.Serving = &servingView{Slots: sv.Slots, Running: sv.Running, Waiting: sv.Waiting, BatchSize: sv.LastBatch,
				MeanBatch: sv.MeanBatch, PrefixHitRate: hitRatio(sv.Prefix), CachedTokens: sv.Prefix.CachedTokens,
				PrefixSeqs: sv.Prefix.Kept, PrefixKVBytes: sv.Prefix.KVBytes}
		}
		out = append(out, v)
	}
	return out, nil
}

func viewServer(st engine.ModelStatus) serverView {
	v := serverView{
		Model: st.ID, State: st.State, MemoryBytes: max(st.EstimateBytes, st.ResidentBytes) + st.KVBytes,
		ResidentBytes: st.ResidentBytes, EstimateBytes: st.EstimateBytes, LoadedAt: st.LoadedAt,
		LastUsed: st.LastUsed, InFlight: st.InFlight, Queued: st.Queued, Pinned: st.Pinned,
		TTLSeconds: st.TTL.Seconds(), ExpiresAt: st.ExpiresAt, Profiles: []string{},
	}
	if st.TTL < 0 {
		v.TTLSeconds = -1 // forever is any negative duration (keep_alive -1 is -1ns), shown as the -1 clients send
	}
	if !st.LoadedAt.IsZero() {
		// The pool stamps LoadedAt with the wall clock.
		v.UptimeSeconds = time.Since(st.LoadedAt).Seconds()
	}
	return v
}

// handleServers is the dashboard's view: every model in the pool and the memory.
func (s *Server) handleServers(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	list, err := s.servers(e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, serversOverview{Servers: list, Memory: e.Memory()})
}

// handleServerModels lists the models in the pool.
func (s *Server) handleServerModels(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	list, err := s.servers(e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) handleServerMemory(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e.Memory())
}

// serverRequest names what to start or stop: a profile or a model.
type serverRequest struct {
	ProfileID  string `json:"profile_id"`
	Model      string `json:"model"`
	Pin        bool   `json:"pin"`         // start: never evict it
	TTLSeconds *int   `json:"ttl_seconds"` // start: overrides the profile's; -1 forever
	Wait       bool   `json:"wait"`        // stop: wait for requests in flight instead of 409
}

// target resolves the request to a model and, when named, its profile.
func (s *Server) target(r serverRequest) (string, *store.Profile, error) {
	switch {
	case r.ProfileID != "" && r.Model != "":
		return "", nil, BadParam("model", "give profile_id or model, not both")
	case r.ProfileID != "":
		p, err := s.store.Profiles().Get(r.ProfileID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "", nil, &Error{Status: http.StatusNotFound, Code: "profile_not_found", Param: "profile_id", Message: "profile not found"}
			}
			return "", nil, err
		}
		return p.Model, &p, nil
	case r.Model != "":
		return r.Model, nil, nil
	}
	return "", nil, BadParam("model", "profile_id or model is required")
}

// handleStartServer loads a model (with its profile's TTL) and answers once it is
// ready. Loading a loaded model only applies the pin and TTL.
func (s *Server) handleStartServer(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	var req serverRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	id, prof, err := s.target(req)
	if err != nil {
		return err
	}
	if _, err := s.localModel(c.Request().Context(), "model", id); err != nil {
		return err
	}
	opts := engine.LoadOptions{Pin: req.Pin}
	if prof != nil {
		opts.TTL = prof.LoadKeepAlive()
	}
	if t := req.TTLSeconds; t != nil {
		if *t < -1 || *t == 0 || *t > maxProfileTTLSeconds {
			return BadParam("ttl_seconds", "ttl_seconds must be -1 (forever) or between 1 and %d", maxProfileTTLSeconds)
		}
		d := time.Duration(*t) * time.Second
		opts.TTL = &d
	}
	ev := store.AuditEvent{Action: "model.load", Model: id}
	if prof != nil {
		ev.Target, ev.Detail = prof.ID, "profile "+prof.Name
	}
	if err := e.Load(c.Request().Context(), id, opts); err != nil {
		ev.Status, ev.ErrorMessage = store.AuditError, err.Error()
		s.audit(c, ev)
		return err
	}
	s.audit(c, ev)
	return s.answerServer(c, e, id)
}

// answerServer writes the pool's view of one model.
func (s *Server) answerServer(c echo.Context, e *engine.Engine, id string) error {
	list, err := s.servers(e)
	if err != nil {
		return err
	}
	for _, v := range list {
		if v.Model == id {
			return c.JSON(http.StatusOK, v)
		}
	}
	// Unloaded again in between (a TTL, an eviction or another client).
	return &Error{Status: http.StatusConflict, Code: "model_not_loaded", Message: fmt.Sprintf("model %s was unloaded again", id)}
}

// handleStopServer unloads a model. A model serving requests is refused with 409
// unless the request asks to wait for them.
func (s *Server) handleStopServer(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	var req serverRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	id, _, err := s.target(req)
	if err != nil {
		return err
	}
	if _, err := modelRef("model", id); err != nil {
		return err
	}
	if err := e.Unload(c.Request().Context(), id, engine.UnloadOptions{Wait: req.Wait}); err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "model.unload", Model: id})
	return c.JSON(http.StatusOK, map[string]any{"model": id, "unloaded": true})
}

// handlePin pins or unpins a loaded model: a pinned model is never evicted and
// never expires.
func (s *Server) handlePin(pinned bool) echo.HandlerFunc {
	action := map[bool]string{true: "model.pin", false: "model.unpin"}[pinned]
	return func(c echo.Context) error {
		e, err := s.needEngine()
		if err != nil {
			return err
		}
		ref, err := repoRef(c)
		if err != nil {
			return err
		}
		id := ref.String()
		if err := e.Pin(id, pinned); err != nil {
			return err
		}
		s.audit(c, store.AuditEvent{Action: action, Model: id})
		return s.answerServer(c, e, id)
	}
}

// repoParam joins the :org and :name route parameters of a repo id.
func repoParam(c echo.Context) string { return c.Param("org") + "/" + c.Param("name") }
