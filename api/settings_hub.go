package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

const hubSettingsDocument = "hub" // the audit target of a change

// hubSettingsView is what GET shows: whether a token is set, never the token.
type hubSettingsView struct {
	Offline  bool   `json:"offline"`
	TokenSet bool   `json:"token_set"`
	Endpoint string `json:"endpoint,omitempty"`
}

func (s *Server) viewHubSettings(set store.HubSettings) hubSettingsView {
	v := hubSettingsView{Offline: set.Offline, TokenSet: set.Token != ""}
	if s.opts.Engine != nil {
		v.Endpoint = s.opts.Engine.HubEndpoint()
	}
	return v
}

func (s *Server) handleGetHubSettings(c echo.Context) error {
	set, err := s.store.Settings().Hub()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewHubSettings(set))
}

// hubSettingsRequest is PUT /api/settings/hub's body: absent fields stay as they are.
type hubSettingsRequest struct {
	Offline *bool   `json:"offline"`
	Token   *string `json:"token"`
}

// handlePutHubSettings changes what the request names: an absent token keeps the
// stored one, "" clears it.
func (s *Server) handlePutHubSettings(c echo.Context) error {
	var req hubSettingsRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	set, err := s.store.Settings().Hub()
	if err != nil {
		return err
	}
	var changes []string
	if req.Offline != nil {
		set.Offline = *req.Offline
		changes = append(changes, fmt.Sprintf("offline=%v", set.Offline))
	}
	if req.Token != nil {
		tok := strings.TrimSpace(*req.Token)
		set.Token = tok
		changes = append(changes, map[bool]string{true: "token=set", false: "token=cleared"}[tok != ""])
	}
	if err := s.store.Settings().PutHub(set); err != nil {
		return err
	}
	s.applyHubSettings(set, req.Token != nil, req.Offline != nil)
	s.audit(c, store.AuditEvent{Action: "settings.update", Target: hubSettingsDocument, Detail: strings.Join(changes, " ")})
	return c.JSON(http.StatusOK, s.viewHubSettings(set))
}

// applyHubSettings hands changed settings to the running client when it can take them.
func (s *Server) applyHubSettings(set store.HubSettings, token, offline bool) {
	if s.opts.Engine == nil {
		return
	}
	if token {
		s.opts.Engine.SetHubToken(set.Token)
	}
	if offline {
		s.opts.Engine.SetHubOffline(set.Offline)
	}
}

// checkOnline refuses a Hub call in offline mode, whether the setting or the
// daemon's flag turned it on. The client refuses too; checking here first gives
// the same answer before any work starts.
func (s *Server) checkOnline() error {
	if s.opts.Engine != nil && s.opts.Engine.HubOffline() {
		return engine.ErrOffline
	}
	set, err := s.store.Settings().Hub()
	if err != nil {
		return err
	}
	if set.Offline {
		return fmt.Errorf("%w (turned on in the hub settings)", engine.ErrOffline)
	}
	return nil
}
