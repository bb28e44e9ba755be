package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every route and its middleware chain. Order of middleware:
// request id → panic recovery → Host/Origin check → auth → handler; on /v1 the
// audit middleware sits just outside auth, so refused requests are recorded too.
func (s *Server) routes() {
	e := s.echo
	e.Use(withRequestID, s.recoverPanic, s.hosts.checkHostAndOrigin)

	e.GET("/health", s.handleHealth)
	e.HEAD("/health", s.handleHealth)

	// /v1 routes take s.v1Chain()...: auditV1 around requireV1, per route, so unknown
	// /v1 paths stay plain 404s.
	s.v1Routes()

	// /api: middleware per route (a group's middleware would also claim every unknown
	// /api path). requireUser takes the Authorization header only; the routes a
	// browser opens with EventSource or WebSocket use requireUserOrQueryToken.
	user := []echo.MiddlewareFunc{s.requireUser}
	admin := []echo.MiddlewareFunc{s.requireUser, s.requireAdmin}
	e.POST("/api/auth/register", s.handleRegister)
	e.POST("/api/auth/login", s.handleLogin)
	e.GET("/api/auth/me", s.handleMe, user...)
	e.POST("/api/auth/api-keys", s.handleCreateAPIKey, user...)
	e.GET("/api/auth/api-keys", s.handleListAPIKeys, user...)
	e.DELETE("/api/auth/api-keys/:id", s.handleDeleteAPIKey, user...)
	e.GET("/api/auth/users", s.handleListUsers, admin...)
	e.GET("/api/auth/users/pending/count", s.handlePendingCount, admin...)
	e.PUT("/api/auth/users/:id", s.handleUpdateUser, admin...)
	e.DELETE("/api/auth/users/:id", s.handleDeleteUser, admin...)
	e.POST("/api/auth/users/:id/reset-password", s.handleResetPassword, admin...)
	e.GET("/api/system/audit-logs", s.handleAuditLogs, user...)
	e.GET("/api/system/audit-logs/stats", s.handleAuditStats, user...)
	e.GET("/api/system/audit-logs/export", s.handleAuditExport, user...)
	e.GET("/api/system/ws/audit-logs", s.handleAuditWS, s.requireUserOrQueryToken)
	e.GET("/api/settings/auth", s.handleGetAuthSettings, admin...)
	e.PUT("/api/settings/auth", s.handlePutAuthSettings, admin...)
	e.GET("/api/settings/audit", s.handleGetAuditSettings, admin...)
	e.PUT("/api/settings/audit", s.handlePutAuditSettings, admin...)
}

type healthResponse struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, healthResponse{Status: "healthy", Version: s.opts.Version})
}
