package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// routes lists every route and its middleware chain. Order of middleware:
// request id → panic recovery → Host/Origin check → auth → handler; on /v1 the
// audit middleware sits just outside auth, so refused requests are recorded too.
func (s *Server) routes() {
	e := s.echo
	s.metrics = s.newMetrics()
	s.watchPool()
	// observe (metrics.go) sits outside recoverPanic to count a panic as its 500;
	// limitRequest (limits.go) caps bodies and times.
	e.Use(withRequestID, s.observe, s.recoverPanic, s.hosts.checkHostAndOrigin, s.limitRequest)

	e.GET("/health", s.handleHealth)
	e.HEAD("/health", s.handleHealth)
	e.GET("/health/ready", s.handleReady)
	// The API's description is public like /health: it holds no data, and SDK
	// generators and API explorers fetch it before they have credentials.
	e.GET("/api/openapi.json", s.handleOpenAPI())
	e.GET("/metrics", s.handleMetrics, s.requireUser, s.requireMetricsAccess)

	// /v1 routes take s.v1Chain()...: auditV1 around requireV1, per route, so unknown
	// /v1 paths stay plain 404s.
	s.v1Routes()
	s.ollamaRoutes()   // Ollama's API (ollama_api.go): /api/chat, /api/tags, ...
	s.tokenizeRoutes() // llama-server's /tokenize, /detokenize, /apply-template (tokenize.go)
	s.echo.POST("/v1/messages/count_tokens", s.handleCountTokens, s.v1Chain()...)

	// /api: middleware per route (a group's middleware would also claim every unknown
	// /api path). requireUser takes the Authorization header only; the routes a
	// browser opens with EventSource or WebSocket use requireUserOrQueryToken.
	user := []echo.MiddlewareFunc{s.requireUser}
	admin := []echo.MiddlewareFunc{s.requireUser, s.requireAdmin}
	serverControl := []echo.MiddlewareFunc{s.requireUser, s.requireServerControl}
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
	e.GET("/api/auth/lockouts", s.handleListLockouts, admin...)
	e.DELETE("/api/auth/users/:id/lockouts", s.handleClearLockouts, admin...)
	e.POST("/api/auth/invites", s.handleCreateInvite, admin...)
	e.GET("/api/auth/invites", s.handleListInvites, admin...)
	e.DELETE("/api/auth/invites/:id", s.handleDeleteInvite, admin...)
	e.GET("/api/system/audit-logs", s.handleAuditLogs, user...)
	e.GET("/api/system/audit-logs/stats", s.handleAuditStats, user...)
	e.GET("/api/system/audit-logs/export", s.handleAuditExport, user...)
	e.GET("/api/system/ws/audit-logs", s.handleAuditWS, s.requireUserOrQueryToken)
	e.GET("/api/settings/auth", s.handleGetAuthSettings, admin...)
	e.PUT("/api/settings/auth", s.handlePutAuthSettings, admin...)
	e.GET("/api/settings/audit", s.handleGetAuditSettings, admin...)
	e.PUT("/api/settings/audit", s.handlePutAuditSettings, admin...)

	// Model library (models.go, modelconfig.go, downloads.go). Repo ids hold a slash:
	// :org/:name. Deleting a model is for admins; searching and downloading for users.
	// The progress stream is opened by EventSource, hence ?token=.
	e.GET("/api/models/search", s.handleSearch, user...)
	e.GET("/api/models/local", s.handleLocalModels, user...)
	e.POST("/api/models/local", s.handleRegisterLocalModel, admin...)
	e.GET("/api/models/config/:org/:name", s.handleModelConfig, user...)
	e.DELETE("/api/models/:org/:name", s.handleDeleteModel, admin...)
	e.POST("/api/models/download", s.handleStartDownload, user...)
	e.GET("/api/models/downloads", s.handleListDownloads, user...)
	e.DELETE("/api/models/downloads", s.handleClearDownloads, user...)
	e.GET("/api/models/download/:task_id/progress", s.handleDownloadProgress, s.requireUserOrQueryToken)
	e.POST("/api/models/download/:id/pause", pauseDownload.handle(s), user...)
	e.POST("/api/models/download/:id/resume", resumeDownload.handle(s), user...)
	e.POST("/api/models/download/:id/cancel", cancelDownload.handle(s), user...)
	e.GET("/api/settings/hub", s.handleGetHubSettings, admin...)
	e.PUT("/api/settings/hub", s.handlePutHubSettings, admin...)
	e.GET("/api/settings/images", s.handleGetImageSettings, admin...)
	e.PUT("/api/settings/images", s.handlePutImageSettings, admin...)

	// Pool ("servers": models in memory, servers.go, events.go) and profiles.
	e.GET("/api/servers", s.handleServers, user...)
	e.GET("/api/servers/models", s.handleServerModels, user...)
	e.GET("/api/servers/memory", s.handleServerMemory, user...)
	e.GET("/api/servers/events", s.handleServerEvents, s.requireUserOrQueryToken)
	e.POST("/api/servers/start", s.handleStartServer, serverControl...)
	e.POST("/api/servers/stop", s.handleStopServer, serverControl...)
	e.POST("/api/servers/:org/:name/pin", s.handlePin(true), serverControl...)
	e.POST("/api/servers/:org/:name/unpin", s.handlePin(false), serverControl...)
	e.GET("/api/settings/pool", s.handleGetPoolSettings, admin...)
	e.PUT("/api/settings/pool", s.handlePutPoolSettings, admin...)
	e.GET("/api/profiles", s.handleListProfiles, user...)
	e.POST("/api/profiles", s.handleCreateProfile, user...)
	e.GET("/api/profiles/:id", s.handleGetProfile, user...)
	e.PUT("/api/profiles/:id", s.handleUpdateProfile, user...)
	e.DELETE("/api/profiles/:id", s.handleDeleteProfile, user...)
	e.POST("/api/profiles/:id/duplicate", s.handleDuplicateProfile, user...)

	// Remote backends and routing rules (backends.go); /v1 handlers ask routeV1 first.
	e.GET("/api/backends", s.handleListBackends, admin...)
	e.POST("/api/backends", s.handleCreateBackend, admin...)
	e.POST("/api/backends/probe", s.handleProbeBackends, admin...)
	e.PUT("/api/backends/:id", s.handleUpdateBackend, admin...)
	e.DELETE("/api/backends/:id", s.handleDeleteBackend, admin...)
	e.GET("/api/settings/routing", s.handleGetRouting, admin...)
	e.PUT("/api/settings/routing", s.handlePutRouting, admin...)

	// An unknown /api or /v1 path is a JSON 404 whatever the method: without these,
	// a POST would meet the app's GET-only route and answer 405.
	for _, prefix := range []string{"/api", "/v1"} {
		e.RouteNotFound(prefix, s.handleNoRoute)
		e.RouteNotFound(prefix+"/*", s.handleNoRoute)
	}

	// The web app (ui.go): its files, and index.html for the app's own paths.
	s.uiRoutes()
}

// handleNoRoute answers a path no route takes with this method: a 405 naming the
// methods when another method has a route for it, a 404 otherwise.
func (s *Server) handleNoRoute(c echo.Context) error {
	r := c.Request()
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := s.echo.NewContext(r, nil)
		s.echo.Router().Find(m, r.URL.Path, probe)
		if m != r.Method && !isNoRoute(probe.Path()) {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		c.Response().Header().Set("Allow", strings.Join(allow, ", "))
		return &Error{Kind: kindMethod, Code: "method_not_allowed",
			Message: r.Method + " is not allowed on " + r.URL.Path + " (allowed: " + strings.Join(allow, ", ") + ")"}
	}
	return &Error{Kind: kindRouteNotFound, Code: "unknown_route", Message: "no such route: " + r.Method + " " + r.URL.Path}
}

// isNoRoute reports the routes that match no real one: handleNoRoute's, the
// app's, and none at all.
func isNoRoute(route string) bool {
	switch route {
	case "", "/api", "/api/*", "/v1", "/v1/*", "/*":
		return true
	}
	return false
}

type healthResponse struct {
	Status  string   `json:"status"`
	Version string   `json:"version"`
	Kernels *Kernels `json:"kernels,omitempty"`
}

// Kernels describes the inference kernels of the binary, shown by /health
// and the UI's About so that a slow build (no SIMD kernels) is visible.
type Kernels struct {
	Set       string `json:"set"`               // in use: avx512, avx2, neon or go
	SIMDBuild bool   `json:"simd_build"`        // built with GOEXPERIMENT=simd
	CPU       string `json:"cpu"`               // the fastest set this CPU supports
	Warning   string `json:"warning,omitempty"` // how to get the fast binary, when this is not it
}

func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, healthResponse{Status: "healthy", Version: s.opts.Version, Kernels: s.opts.Kernels})
}
