package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/route"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// routingSettingsDocument is the settings key of the routing rules.
const routingSettingsDocument = "routing"

// backendBody is what an admin sends to create or change a backend. APIKey absent
// keeps the stored key on a change; "" removes it.
type backendBody struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	BaseURL  string   `json:"base_url"`
	APIKey   *string  `json:"api_key,omitempty"`
	TimeoutS int      `json:"timeout_s"`
	Models   []string `json:"models"`
	Discover bool     `json:"discover"`
	Users    []string `json:"users"` // user ids and API key ids; empty: everyone
	// HTTP2 is "auto" (the default: HTTP/2 where TLS negotiates it), "on" (also
	// h2c on http:// when the server speaks it) or "off" (HTTP/1.1 only).
	HTTP2 string `json:"http2,omitempty" jsonschema:"enum=auto,enum=on,enum=off"`
}

// backendView is a backend as the API shows it: never its key, only the last 4
// characters.
type backendView struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Kind      string       `json:"kind"`
	BaseURL   string       `json:"base_url"`
	HasKey    bool         `json:"has_key"`
	KeyLast4  string       `json:"key_last4,omitempty"`
	TimeoutS  int          `json:"timeout_s"`
	Models    []string     `json:"models"`
	Discover  bool         `json:"discover"`
	Users     []string     `json:"users"`
	HTTP2     string       `json:"http2" jsonschema:"enum=auto,enum=on,enum=off"`
	Health    route.Status `json:"health"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// routingSettings is the "routing" settings document, typed and validated in
// the store (store.RoutingSettings).
type routingSettings = store.RoutingSettings

var backendName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (b *backendBody) validate() error {
	b.Name = strings.TrimSpace(b.Name)
	switch {
	case !backendName.MatchString(b.Name):
		return BadParam("name", "name must be 1-64 letters, digits, '.', '_' or '-'")
	case b.Name == route.Local:
		return BadParam("name", "%q names this daemon's own engine in routing rules", route.Local)
	case b.Kind != route.KindOpenAI && b.Kind != route.KindAnthropic:
		return BadParam("kind", "kind must be %q or %q", route.KindOpenAI, route.KindAnthropic)
	case b.TimeoutS < 0 || b.TimeoutS > 3600:
		return BadParam("timeout_s", "timeout_s must be 0 (default) to 3600")
	case !route.ValidHTTP2(b.HTTP2):
		return BadParam("http2", "http2 must be %q, %q or %q", route.HTTP2Auto, route.HTTP2On, route.HTTP2Off)
	}
	if b.HTTP2 == "" {
		b.HTTP2 = route.HTTP2Auto
	}
	u, err := url.Parse(b.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return BadParam("base_url", "base_url must be an http(s) URL without credentials or query, e.g. http://gpu:8000/v1")
	}
	b.BaseURL = strings.TrimRight(b.BaseURL, "/")
	for _, m := range b.Models {
		if strings.TrimSpace(m) == "" {
			return BadParam("models", "model names must not be empty")
		}
	}
	return nil
}

func (s *Server) viewBackend(b store.Backend) backendView {
	h, _ := s.router.Status(b.Name)
	return backendView{ID: b.ID, Name: b.Name, Kind: b.Kind, BaseURL: b.BaseURL, HasKey: len(b.Cipher) > 0,
		KeyLast4: b.KeyLast4, TimeoutS: b.TimeoutS, Models: nonNil(b.Models), Discover: b.Discover,
		Users: nonNil(b.Users), HTTP2: cmp.Or(b.HTTP2, route.HTTP2Auto), Health: h, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) handleListBackends(c echo.Context) error {
	all, err := s.store.Backends().List()
	if err != nil {
		return err
	}
	out := make([]backendView, 0, len(all))
	for _, b := range all {
		out = append(out, s.viewBackend(b))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleCreateBackend(c echo.Context) error {
	return s.putBackend(c, store.Backend{}, http.StatusCreated, "backend.create")
}

func (s *Server) handleUpdateBackend(c echo.Context) error {
	old, err := s.store.Backends().Get(c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: engine.KindNotFound, Message: "no such backend"}
	}
	if err != nil {
		return err
	}
	return s.putBackend(c, old, http.StatusOK, "backend.update")
}

func (s *Server) putBackend(c echo.Context, b store.Backend, status int, action string) error {
	var body backendBody
	if err := decodeStrictJSON(c, &body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	b.Name, b.Kind, b.BaseURL, b.TimeoutS = body.Name, body.Kind, body.BaseURL, body.TimeoutS
	b.Models, b.Discover, b.Users, b.HTTP2 = body.Models, body.Discover, body.Users, body.HTTP2
	saved, err := s.store.Backends().Put(b, body.APIKey)
	if errors.Is(err, store.ErrConflict) {
		return &Error{Kind: engine.KindConflict, Param: "name", Message: fmt.Sprintf("a backend named %q exists", b.Name)}
	}
	if err != nil {
		return err
	}
	if err := s.reloadRoutes(); err != nil {
		return err
	}
	s.probeBackends(c.Request().Context())
	s.audit(c, store.AuditEvent{Action: action, Target: saved.Name, Detail: saved.Kind + " " + saved.BaseURL})
	return c.JSON(status, s.viewBackend(saved))
}

func (s *Server) handleDeleteBackend(c echo.Context) error {
	b, err := s.store.Backends().Get(c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: engine.KindNotFound, Message: "no such backend"}
	}
	if err != nil {
		return err
	}
	if err := s.store.Backends().Delete(b.ID); err != nil {
		return err
	}
	if err := s.reloadRoutes(); err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "backend.delete", Target: b.Name})
	return c.NoContent(http.StatusNoContent)
}

// handleProbeBackends probes every backend now (instead of at the next tick) and
// lists them with their fresh health.
func (s *Server) handleProbeBackends(c echo.Context) error {
	s.router.Probe(c.Request().Context())
	return s.handleListBackends(c)
}

func (s *Server) handleGetRouting(c echo.Context) error {
	rs, err := s.routingSettings()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rs)
}

func (s *Server) handlePutRouting(c echo.Context) error {
	var rs routingSettings
	if err := decodeStrictJSON(c, &rs); err != nil {
		return err
	}
	if err := s.store.Settings().PutRouting(rs); err != nil {
		return err
	}
	if err := s.reloadRoutes(); err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "settings.update", Target: routingSettingsDocument, Detail: fmt.Sprintf("%d rules", len(rs.Rules))})
	return s.handleGetRouting(c)
}

func (s *Server) routingSettings() (routingSettings, error) { return s.store.Settings().Routing() }

// routeRules is the one translation of the stored rules into the router's.
func routeRules(rs routingSettings) []route.Rule {
	out := make([]route.Rule, 0, len(rs.Rules))
	for _, r := range rs.Rules {
		targets := make([]route.Target, 0, len(r.Targets))
		for _, t := range r.Targets {
			targets = append(targets, route.Target{Backend: t.Backend, Model: t.Model})
		}
		out = append(out, route.Rule{Pattern: r.Pattern, Targets: targets})
	}
	return out
}

// reloadRoutes hands the stored backends (keys decrypted) and rules to the router.
func (s *Server) reloadRoutes() error {
	all, err := s.store.Backends().List()
	if err != nil {
		return err
	}
	backends := make([]route.Backend, 0, len(all))
	for _, b := range all {
		key, err := s.store.Backends().APIKey(b)
		if err != nil {
			// The key file was lost or replaced: the backend runs without its key
			// (its health shows the refusal) until an admin enters it again,
			// rather than the daemon refusing to start.
			s.log.Error("backend key unreadable: enter it again in Settings", "backend", b.Name, "err", err)
		}
		backends = append(backends, route.Backend{Name: b.Name, Kind: b.Kind, BaseURL: b.BaseURL, APIKey: key,
			Timeout: time.Duration(b.TimeoutS) * time.Second, Models: b.Models, Discover: b.Discover, Users: b.Users,
			HTTP2: b.HTTP2})
	}
	rs, err := s.routingSettings()
	if err != nil {
		return err
	}
	s.router.Set(backends, routeRules(rs))
	return nil
}

// probeBackends checks a new or changed backend at once, so its health and
// discovered models show in the answer; the admin's request bounds the wait.
func (s *Server) probeBackends(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.router.Probe(ctx)
}
