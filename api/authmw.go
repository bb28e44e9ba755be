package api

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

const (
	apiKeyTouchInterval  = time.Minute
	ctxUser              = "auth.user"
	ctxAPIKey            = "auth.api_key"
	authSettingsDocument = "auth"
)

// authState is the server's credentials machinery.
type authState struct {
	tokens   *auth.Tokens
	hasher   *auth.Hasher
	throttle *auth.Throttle // sign-in failures per (account, client), account and address
}

func newAuthState(opts Options) (*authState, error) {
	secret := opts.JWTSecret
	if secret == nil {
		// Embedders and tests that pass no secret get one for this run only; the
		// daemon always passes the kept one (auth.LoadSecret).
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	tokens, err := auth.NewTokens(secret, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	params := auth.DefaultParams
	if opts.PasswordParams != nil {
		params = *opts.PasswordParams
	}
	hasher, err := auth.NewHasher(params)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	throttle, err := auth.NewThrottle(auth.ThrottleConfig{Now: opts.Now}, lockStore{opts.Store.Lockouts()})
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return &authState{tokens: tokens, hasher: hasher, throttle: throttle}, nil
}

// currentUser is the authenticated user of the request. ok is false only on /v1
// requests let through unauthenticated from loopback (see authSettings).
func currentUser(c echo.Context) (store.User, bool) {
	u, ok := c.Get(ctxUser).(store.User)
	return u, ok
}

// apiKeyID is the id of the API key the request authenticated with, "" for a session token.
func apiKeyID(c echo.Context) string {
	id, _ := c.Get(ctxAPIKey).(string)
	return id
}

// clientIP is the address of the TCP peer. X-Forwarded-For is ignored on purpose:
// any client can send it, and rate limits and the loopback rule must not be fooled.
func clientIP(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

func isLoopbackClient(c echo.Context) bool {
	ip := net.ParseIP(clientIP(c))
	return ip != nil && ip.IsLoopback()
}

func unauthorized(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNoCredentials() *Error {
	return unauthorized("missing_credentials", "missing credentials: send Authorization: Bearer <token or API key>")
}

// credential returns the request's bearer credential, or with allowQuery its ?token=.
func credential(c echo.Context, allowQuery bool) string {
	if tok := auth.BearerToken(c.Request().Header); tok != "" {
		return tok
	}
	// Anthropic's SDKs and Claude Code send their key as x-api-key.
	if key := c.Request().Header.Get("X-Api-Key"); key != "" && auth.IsAPIKey(key) {
		return key
	}
	if allowQuery {
		return auth.QueryToken(c.Request())
	}
	return ""
}

// authenticate resolves a credential to an approved user. The user record is read
// on every request, so disabling, deleting or a password reset takes effect at once.
func (s *Server) authenticate(c echo.Context, cred string) error {
	var (
		u     store.User
		keyID string
	)
	if s.isLocalCredential(cred) {
		if !isLoopbackClient(c) {
			return unauthorized("invalid_token", "the local credential is accepted from this machine only")
		}
		owner, err := s.localOwner()
		if err != nil {
			return err
		}
		u = owner
	} else if auth.IsAPIKey(cred) {
		k, owner, err := s.store.APIKeys().Resolve(auth.HashAPIKey(cred))
		if errors.Is(err, store.ErrNotFound) {
			return unauthorized("invalid_api_key", "invalid API key")
		}
		if err != nil {
			return err
		}
		u, keyID = owner, k.ID
		s.claimKeyTouch(c, k)
	} else {
		claims, err := s.auth.tokens.Verify(cred)
		if errors.Is(err, auth.ErrTokenExpired) {
			return unauthorized("token_expired", "session expired: sign in again")
		}
		if err != nil {
			return unauthorized("invalid_token", "invalid token")
		}
		u, err = s.store.Users().Get(claims.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.TokenGen != claims.Gen) {
			return unauthorized("session_revoked", "session is no longer valid: sign in again")
		}
		if err != nil {
			return err
		}
	}
	if err := statusError(u); err != nil {
		return err
	}
	c.Set(ctxUser, u)
	// The engine admits waiting generations round-robin by user, so that one
	// user's burst cannot hold every slot of a model (issue #27).
	c.SetRequest(c.Request().WithContext(engine.WithCaller(c.Request().Context(), "user:"+u.ID)))
	if keyID != "" {
		c.Set(ctxAPIKey, keyID)
	}
	return nil
}

// statusError is the 403 for an account that may not act, or nil.
func statusError(u store.User) *Error {
	switch u.Status {
	case store.StatusApproved:
		return nil
	case store.StatusPending:
		return &Error{Status: http.StatusForbidden, Code: "account_pending", Message: "account is pending approval by an administrator"}
	default:
		return &Error{Status: http.StatusForbidden, Code: "account_disabled", Message: "account is disabled"}
	}
}

func (s *Server) requireCredential(allowQuery bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			cred := credential(c, allowQuery)
			if cred == "" {
				c.Response().Header().Set("WWW-Authenticate", "Bearer")
				return errNoCredentials()
			}
			if err := s.authenticate(c, cred); err != nil {
				var e *Error
				if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
					c.Response().Header().Set("WWW-Authenticate", "Bearer")
				}
				return err
			}
			defer s.touchClaimedKey(c) // after the answer's first byte (keytouch.go)
			return next(c)
		}
	}
}

// requireUser is /api's authentication: a session token or an API key in the
// Authorization header. ?token= is ignored.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requireCredential(false)(next)
}

// requireUserOrQueryToken is requireUser that also takes ?token=, for the routes a
// browser opens with EventSource or WebSocket (which cannot send headers). On a
// WebSocket route it runs before the upgrade, so a refused client gets a plain
// 401/403 and never a WebSocket.
func (s *Server) requireUserOrQueryToken(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requireCredential(true)(next)
}

// requireAdmin follows requireUser on admin-only routes.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, ok := currentUser(c)
		if !ok || !u.IsAdmin {
			return &Error{Status: http.StatusForbidden, Code: "admin_required", Message: "administrator rights required"}
		}
		return next(c)
	}
}

// requireServerControl follows requireUser on the routes that load, unload and pin
// models: admins always, the user role when the auth setting allows it.
func (s *Server) requireServerControl(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := currentUser(c); ok && u.IsAdmin {
			return next(c)
		}
		set, err := s.authSettings()
		if err != nil {
			return err
		}
		if !set.UsersControlServers {
			return &Error{Status: http.StatusForbidden, Code: "admin_required",
				Message: "starting, stopping and pinning models is for administrators (setting users_control_servers)"}
		}
		return next(c)
	}
}

// requireV1 is /v1's authentication: an API key or a session token, as the OpenAI
// SDKs always send one. When the auth setting allows it, a loopback client without
// any credential is let through with no user; a wrong credential is still refused.
func (s *Server) requireV1(next echo.HandlerFunc) echo.HandlerFunc {
	withCred := s.requireCredential(false)(next)
	return func(c echo.Context) error {
		if credential(c, false) == "" && isLoopbackClient(c) {
			set, err := s.authSettings()
			if err != nil {
				return err
			}
			if set.AllowUnauthenticatedLoopback {
				return next(c)
			}
		}
		return withCred(c)
	}
}

// authSettings is the "auth" settings document, typed and validated in the
// store (store.AuthSettings).
type authSettings = store.AuthSettings

func (s *Server) authSettings() (authSettings, error) { return s.store.Settings().Auth() }

func (s *Server) handleGetAuthSettings(c echo.Context) error {
	set, err := s.authSettings()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (s *Server) handlePutAuthSettings(c echo.Context) error {
	set, err := s.authSettings()
	if err != nil {
		return err
	}
	if err := decodeStrictJSON(c, &set); err != nil {
		return err
	}
	if err := s.store.Settings().PutAuth(set); err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "settings.update", Target: authSettingsDocument,
		Detail: fmt.Sprintf("allow_unauthenticated_loopback=%v users_control_servers=%v registration=%s", set.AllowUnauthenticatedLoopback, set.UsersControlServers, cmp.Or(set.Registration, registrationOpen))})
	return c.JSON(http.StatusOK, set)
}
