package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every route and its middleware chain. Order of middleware:
// request id → panic recovery → Host/Origin check → auth → audit.
func (s *Server) routes() {
	e := s.echo
	e.Use(withRequestID, s.recoverPanic, s.hosts.checkHostAndOrigin)

	e.GET("/health", s.handleHealth)
	e.HEAD("/health", s.handleHealth)
}

type healthResponse struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, healthResponse{Status: "healthy", Version: s.opts.Version})
}
