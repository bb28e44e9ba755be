package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// handleV1Models lists every model of the models dir, loaded or not, and every
// profile: all the names a request's model field accepts.
func (s *Server) handleV1Models(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	models, err := eng.Models(c.Request().Context())
	if err != nil {
		return v1Error(err)
	}
	profiles, err := s.store.Profiles().List()
	if err != nil {
		return err
	}
	out := openai.ModelList{Object: "list", Data: make([]openai.Model, 0, len(models)+len(profiles))}
	for _, m := range models {
		out.Data = append(out.Data, openai.ModelFrom(m))
	}
	for _, p := range profiles {
		if !profileVisible(c, p) {
			continue
		}
		out.Data = append(out.Data, openai.ProfileModel(p.Name, p.CreatedAt.Unix()))
	}
	out.Data = s.appendRoutedModels(c, out.Data) // v1route.go
	return c.JSON(http.StatusOK, out)
}

// handleV1Model describes one model or profile.
func (s *Server) handleV1Model(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	id := modelParam(c)
	p, err := s.store.Profiles().ByName(id)
	if err == nil && !profileVisible(c, p) {
		return modelNotFound(id)
	}
	if err == nil {
		return c.JSON(http.StatusOK, openai.ProfileModel(p.Name, p.CreatedAt.Unix()))
	}
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if m, ok := s.routedModel(c, id); ok && !s.servedLocally(c, id) { // v1route.go
		return c.JSON(http.StatusOK, m)
	}
	if !engine.IsModelRef(id) {
		return modelNotFound(id)
	}
	info, err := eng.Model(c.Request().Context(), id)
	if errors.Is(err, engine.ErrModelNotFound) {
		return modelNotFound(id)
	}
	if err != nil {
		return v1Error(err)
	}
	return c.JSON(http.StatusOK, openai.ModelFrom(info))
}
