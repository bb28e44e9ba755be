package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// Profile limits.
const (
	maxProfileName       = 100
	maxSystemPrompt      = 32 << 10 // characters
	minProfileContext    = 128
	maxProfileTTLSeconds = 30 * 24 * 3600
	maxDuplicateTries    = 100
)

// profileRequest is the body of create and update: a whole profile (update
// replaces, so an absent optional field is unset).
type profileRequest struct {
	Name          string   `json:"name"`
	Model         string   `json:"model"`
	SystemPrompt  string   `json:"system_prompt"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"top_p"`
	MaxTokens     *int     `json:"max_tokens"`
	ContextLength int      `json:"context_length"` // 0: the model's own
	TTLSeconds    *int     `json:"ttl_seconds"`    // null: the pool's default; -1: forever; 0: unload after each request
	AutoStart     bool     `json:"auto_start"`
	ToolFormat    string   `json:"tool_format"` // "": read from the model's template; else hermes, llama3, mistral, qwen3-coder or none
	Shared        bool     `json:"shared"`      // other users may see and use it, read-only
	Parallel      int      `json:"parallel"`    // requests its model decodes together; 0: the pool setting. Admins only
}

// profileVisible reports whether the request's user may see and use p. The /v1
// requests let through unauthenticated from loopback see shared profiles only.
func profileVisible(c echo.Context, p store.Profile) bool {
	u, ok := currentUser(c)
	if !ok {
		return p.Shared
	}
	return p.VisibleTo(u)
}

// profileForUser returns the profile with id for reading (access "read") or changing
// ("write"). One the user may not see is "not found", so its existence is not
// revealed; one they may see but not change is 403.
func (s *Server) profileForUser(c echo.Context, id, access string) (store.Profile, error) {
	p, err := s.store.Profiles().Get(id)
	if err != nil {
		return p, profileError(err)
	}
	if !profileVisible(c, p) {
		return p, profileError(store.ErrNotFound)
	}
	if u, _ := currentUser(c); access == "write" && !p.EditableBy(u) {
		return p, &Error{Status: http.StatusForbidden, Code: "not_profile_owner",
			Message: "only the profile's owner or an admin may change it: duplicate it to make your own"}
	}
	return p, nil
}

func profileError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "profile_not_found", Message: "profile not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "name_taken", Param: "name", Message: "a profile with this name already exists", Err: err}
	}
	return err
}

// validate checks the fields and that the model is in the models dir, returning
// the profile to store.
func (s *Server) validateProfile(ctx context.Context, r profileRequest) (store.Profile, error) {
	p := store.Profile{
		Name: strings.TrimSpace(r.Name), Model: strings.TrimSpace(r.Model), SystemPrompt: r.SystemPrompt,
		Temperature: r.Temperature, TopP: r.TopP, MaxTokens: r.MaxTokens, ContextLength: r.ContextLength,
		TTLSeconds: r.TTLSeconds, AutoStart: r.AutoStart, ToolFormat: strings.TrimSpace(r.ToolFormat), Shared: r.Shared,
		Parallel: r.Parallel,
	}
	if err := checkProfileName(p.Name); err != nil {
		return p, err
	}
	if utf8.RuneCountInString(p.SystemPrompt) > maxSystemPrompt {
		return p, BadParam("system_prompt", "system_prompt is longer than %d characters", maxSystemPrompt)
	}
	if t := p.Temperature; t != nil && (*t < 0 || *t > 2) {
		return p, BadParam("temperature", "temperature must be between 0 and 2")
	}
	if t := p.TopP; t != nil && (*t <= 0 || *t > 1) {
		return p, BadParam("top_p", "top_p must be greater than 0 and at most 1")
	}
	if t := p.TTLSeconds; t != nil && (*t < -1 || *t > maxProfileTTLSeconds) {
		return p, BadParam("ttl_seconds", "ttl_seconds must be -1 (forever), 0 (unload after each request) or up to %d", maxProfileTTLSeconds)
	}
	if p.Parallel < 0 || p.Parallel > store.MaxParallel {
		return p, BadParam("parallel", "parallel must be between 0 (the pool setting) and %d", store.MaxParallel)
	}
	if p.ToolFormat != "" {
		f, err := engine.ParseToolFormat(p.ToolFormat)
		if err != nil {
			return p, BadParam("tool_format", "%v", err)
		}
		p.ToolFormat = f
	}
	info, err := s.localModel(ctx, "model", p.Model)
	if err != nil {
		return p, err
	}
	if c := p.ContextLength; c != 0 && (c < minProfileContext || (info.ContextLength > 0 && c > info.ContextLength)) {
		return p, BadParam("context_length", "context_length must be between %d and the model's %d", minProfileContext, info.ContextLength)
	}
	limit := p.ContextLength
	if limit == 0 {
		limit = info.ContextLength
	}
	if m := p.MaxTokens; m != nil && (*m < 1 || (limit > 0 && *m > limit)) {
		return p, BadParam("max_tokens", "max_tokens must be between 1 and the context length %d", limit)
	}
	return p, nil
}

func checkProfileName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > maxProfileName {
		return BadParam("name", "name is required, at most %d characters", maxProfileName)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return BadParam("name", "name must not contain control characters")
	}
	// /v1 requests name a model or a profile in the same field: a profile named
	// like a repo id would hide that model.
	if engine.IsModelRef(name) {
		return BadParam("name", "name must not look like a model id (org/name)")
	}
	return nil
}

// localModel describes a model of the models dir that a profile or a server may use:
// a repo id (never a path: API users must not load arbitrary folders) that is
// complete on disk and that an executor supports.
func (s *Server) localModel(ctx context.Context, param, id string) (engine.ModelInfo, error) {
	if s.opts.Engine == nil {
		return engine.ModelInfo{}, errNoEngine()
	}
	if _, err := modelRef(param, id); err != nil {
		return engine.ModelInfo{}, err
	}
	info, err := s.opts.Engine.Model(ctx, id)
	if errors.Is(err, engine.ErrModelNotFound) {
		return info, &Error{Status: http.StatusNotFound, Code: "model_not_found", Param: param,
			Message: fmt.Sprintf("model %s is not in the models dir: download it first", id), Err: err}
	}
	if err != nil {
		return info, err
	}
	if !info.Supported {
		return info, &Error{Status: http.StatusBadRequest, Code: "model_not_supported", Param: param,
			Message: fmt.Sprintf("model %s cannot run here: %s", id, info.Unsupported)}
	}
	return info, nil
}

func (s *Server) handleListProfiles(c echo.Context) error {
	all, err := s.store.Profiles().List()
	if err != nil {
		return err
	}
	list := []store.Profile{}
	for _, p := range all {
		if profileVisible(c, p) {
			list = append(list, p)
		}
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) handleGetProfile(c echo.Context) error {
	p, err := s.profileForUser(c, c.Param("id"), "read")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) handleCreateProfile(c echo.Context) error {
	var req profileRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	if err := s.profileAllowed(c); err != nil {
		return err
	}
	p, err := s.validateProfile(c.Request().Context(), req)
	if err != nil {
		return err
	}
	if err := parallelAllowed(c, 0, p.Parallel); err != nil {
		return err
	}
	u, _ := currentUser(c)
	p.OwnerID = u.ID
	p, err = s.store.Profiles().Create(p)
	if err != nil {
		return profileError(err)
	}
	s.audit(c, store.AuditEvent{Action: "profile.create", Target: p.ID, Model: p.Model, Detail: p.Name})
	s.applyProfileParallel(c)
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) handleUpdateProfile(c echo.Context) error {
	id := c.Param("id")
	old, err := s.profileForUser(c, id, "write")
	if err != nil {
		return err
	}
	var req profileRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	p, err := s.validateProfile(c.Request().Context(), req)
	if err != nil {
		return err
	}
	if err := parallelAllowed(c, old.Parallel, p.Parallel); err != nil {
		return err
	}
	p, err = s.store.Profiles().Update(id, p)
	if err != nil {
		return profileError(err)
	}
	s.audit(c, store.AuditEvent{Action: "profile.update", Target: p.ID, Model: p.Model, Detail: p.Name})
	s.applyProfileParallel(c)
	return c.JSON(http.StatusOK, p)
}

func (s *Server) handleDeleteProfile(c echo.Context) error {
	id := c.Param("id")
	p, err := s.profileForUser(c, id, "write")
	if err != nil {
		return err
	}
	if err := s.store.Profiles().Delete(id); err != nil {
		return profileError(err)
	}
	s.audit(c, store.AuditEvent{Action: "profile.delete", Target: id, Model: p.Model, Detail: p.Name})
	if p.Parallel > 0 {
		s.applyProfileParallel(c)
	}
	return c.NoContent(http.StatusNoContent)
}

// handleDuplicateProfile copies a profile under the first free name "X (copy)",
// "X (copy 2)", ... The copy never auto-starts: two profiles would load one model.
func (s *Server) handleDuplicateProfile(c echo.Context) error {
	src, err := s.profileForUser(c, c.Param("id"), "read")
	if err != nil {
		return err
	}
	if err := s.profileAllowed(c); err != nil {
		return err
	}
	// The copy is the duplicator's own, private until they share it.
	u, _ := currentUser(c)
	cp := src
	cp.AutoStart, cp.OwnerID, cp.Shared = false, u.ID, false
	if !u.IsAdmin {
		cp.Parallel = 0 // only admins size a model's slots
	}
	for i := 1; i <= maxDuplicateTries; i++ {
		cp.Name = copyName(src.Name, i)
		created, err := s.store.Profiles().Create(cp)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return profileError(err)
		}
		s.audit(c, store.AuditEvent{Action: "profile.duplicate", Target: created.ID, Model: created.Model,
			Detail: src.Name + " -> " + created.Name})
		if created.Parallel > 0 {
			s.applyProfileParallel(c)
		}
		return c.JSON(http.StatusCreated, created)
	}
	return &Error{Status: http.StatusConflict, Code: "name_taken", Message: "too many copies of this profile"}
}

// copyName is the name of the n-th copy, cut so it stays within the length limit.
func copyName(name string, n int) string {
	suffix := " (copy)"
	if n > 1 {
		suffix = fmt.Sprintf(" (copy %d)", n)
	}
	r := []rune(name)
	if keep := maxProfileName - utf8.RuneCountInString(suffix); len(r) > keep {
		r = r[:keep]
	}
	return string(r) + suffix
}

// parallelAllowed refuses a change of a profile's parallel by a user who is not
// an admin: the slots size the model's KV memory for every user of the model.
// Sending the value the profile already has is not a change.
func parallelAllowed(c echo.Context, old, parallel int) error {
	if u, _ := currentUser(c); parallel == old || u.IsAdmin {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: "admin_required", Param: "parallel",
		Message: "only an admin may set a profile's parallel"}
}

// applyProfileParallel hands the profiles' per-model slots to the engine after a
// profile changed. The change itself is stored: a failure here is logged, and the
// daemon applies the stored profiles at its next start.
func (s *Server) applyProfileParallel(c echo.Context) {
	if s.opts.Engine == nil {
		return
	}
	if err := ApplyProfileParallel(s.store, s.opts.Engine); err != nil {
		s.log.Error("applying profiles' parallel", "err", err, "request_id", requestID(c))
	}
}

// ApplyProfileParallel gives each model the slots its profiles ask for
// (store.ModelParallel), at once for the loaded ones.
func ApplyProfileParallel(st *store.Store, e *engine.Engine) error {
	list, err := st.Profiles().List()
	if err != nil {
		return fmt.Errorf("profiles' parallel: %w", err)
	}
	e.SetModelParallel(store.ModelParallel(list))
	return nil
}
