package api

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
)

const maxKeyNameLen = 100

// apiKeyView is a key as listed: never the key itself nor its hash.
type apiKeyView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

func viewKey(k store.APIKey) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}

// createdKey is the one response that carries the key: it is not stored anywhere.
type createdKey struct {
	apiKeyView
	Key string `json:"key"`
}

// apiKeyRequest is POST /api/auth/api-keys's body.
type apiKeyRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleCreateAPIKey(c echo.Context) error {
	var req apiKeyRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > maxKeyNameLen {
		return unprocessable("name", "name is required, at most %d characters", maxKeyNameLen)
	}
	u, _ := currentUser(c)
	if err := s.apiKeyAllowed(u); err != nil {
		return err
	}
	key, hash, prefix, err := auth.NewAPIKey()
	if err != nil {
		return err
	}
	k, err := s.store.APIKeys().Create(u.ID, name, prefix, hash)
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "apikey.create", Target: k.ID, Detail: name})
	return c.JSON(http.StatusCreated, createdKey{apiKeyView: viewKey(k), Key: key})
}

func (s *Server) handleListAPIKeys(c echo.Context) error {
	u, _ := currentUser(c)
	keys, err := s.store.APIKeys().List(u.ID)
	if err != nil {
		return err
	}
	out := make([]apiKeyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, viewKey(k))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleDeleteAPIKey(c echo.Context) error {
	u, _ := currentUser(c)
	k, err := s.store.APIKeys().Delete(u.ID, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "api key not found"}
	}
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "apikey.revoke", Target: k.ID, Detail: k.Name})
	return c.NoContent(http.StatusNoContent)
}
