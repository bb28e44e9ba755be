package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

const imageSettingsDocument = "images" // the audit target of a change

func (s *Server) handleGetImageSettings(c echo.Context) error {
	set, err := s.store.Settings().Images()
	if err != nil {
		return err
	}
	set.URLFetch = set.Fetch()
	return c.JSON(http.StatusOK, set)
}

// handlePutImageSettings stores the document; it applies from the next
// request on (fetchImageURLs reads it per request).
func (s *Server) handlePutImageSettings(c echo.Context) error {
	var set store.ImageSettings
	if err := decodeStrictJSON(c, &set); err != nil {
		return err
	}
	if err := s.store.Settings().PutImages(set); err != nil {
		return err
	}
	set.URLFetch = set.Fetch()
	s.audit(c, store.AuditEvent{Action: "settings.update", Target: imageSettingsDocument, Detail: "image_url_fetch=" + set.URLFetch})
	return c.JSON(http.StatusOK, set)
}
