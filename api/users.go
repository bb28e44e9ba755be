package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
)

// userView is a user as the API shows it: never the password hash or token generation.
type userView struct {
	ID          string           `json:"id"`
	Email       string           `json:"email"`
	IsAdmin     bool             `json:"is_admin"`
	Status      store.UserStatus `json:"status"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	LastLoginAt time.Time        `json:"last_login_at,omitzero"`
}

func viewUser(u store.User) userView {
	return userView{ID: u.ID, Email: u.Email, IsAdmin: u.IsAdmin, Status: u.Status,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLoginAt: u.LastLoginAt}
}

// userError maps the store's user errors to responses.
func userError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Message: "user not found", Err: err}
	case errors.Is(err, store.ErrLastAdmin):
		return &Error{Status: http.StatusConflict, Code: "last_admin", Message: store.ErrLastAdmin.Error(), Err: err}
	}
	return err
}

func (s *Server) handleRegister(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	cr, err := parseRegister(c.Request().Header.Get(echo.HeaderContentType), body)
	if err != nil {
		return err
	}
	if cr.Invite != "" {
		return s.registerInvited(c, cr)
	}
	if err := s.registrationAllowed(); err != nil {
		return err
	}
	hash, err := s.auth.hasher.Hash(c.Request().Context(), cr.Password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u, err := s.store.Users().Create(cr.Email, hash)
	if errors.Is(err, store.ErrConflict) {
		// Answer exactly as for a new account awaiting approval (the password was
		// hashed all the same), so registration cannot tell a stranger which
		// e-mails have accounts; login does not tell either. The owner of the
		// address signs in as usual; the admin sees the attempt in the audit log.
		s.audit(c, store.AuditEvent{Action: "auth.register", Status: store.AuditError, UserEmail: cr.Email,
			ErrorType: "email_taken", Detail: "an account with this e-mail exists: answered as a new pending registration"})
		now := s.now().UTC()
		return c.JSON(http.StatusCreated, userView{ID: decoyID(), Email: strings.ToLower(cr.Email),
			Status: store.StatusPending, CreatedAt: now, UpdatedAt: now})
	}
	if err != nil {
		return err
	}
	detail := "pending approval"
	if u.IsAdmin {
		detail = "first user: approved admin"
	}
	s.audit(c, store.AuditEvent{Action: "auth.register", UserID: u.ID, UserEmail: u.Email, Target: u.ID, Detail: detail})
	return c.JSON(http.StatusCreated, viewUser(u))
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func (s *Server) handleMe(c echo.Context) error {
	u, _ := currentUser(c)
	return c.JSON(http.StatusOK, viewUser(u))
}

func (s *Server) handleListUsers(c echo.Context) error {
	users, err := s.store.Users().List()
	if err != nil {
		return err
	}
	out := make([]userView, 0, len(users))
	for _, u := range users {
		out = append(out, viewUser(u))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handlePendingCount(c echo.Context) error {
	n, err := s.store.Users().CountPending()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"count": n})
}

type userUpdate struct {
	Status  *store.UserStatus `json:"status"`
	IsAdmin *bool             `json:"is_admin"`
}

func (s *Server) handleUpdateUser(c echo.Context) error {
	var req userUpdate
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	if req.Status != nil && !req.Status.Valid() {
		return &Error{Status: http.StatusUnprocessableEntity, Param: "status", Message: "status must be approved, disabled or pending"}
	}
	id := c.Param("id")
	before, err := s.store.Users().Get(id)
	if err != nil {
		return userError(err)
	}
	u, err := s.store.Users().Update(id, store.UserPatch{Status: req.Status, IsAdmin: req.IsAdmin})
	if err != nil {
		return userError(err)
	}
	if before.Status != u.Status {
		action := "user.status"
		if u.Status == store.StatusApproved && before.Status == store.StatusPending {
			action = "user.approve"
		}
		s.audit(c, store.AuditEvent{Action: action, Target: u.ID, Detail: fmt.Sprintf("%s: %s -> %s", u.Email, before.Status, u.Status)})
	}
	if before.IsAdmin != u.IsAdmin {
		s.audit(c, store.AuditEvent{Action: "user.role", Target: u.ID, Detail: fmt.Sprintf("%s: is_admin=%v", u.Email, u.IsAdmin)})
	}
	return c.JSON(http.StatusOK, viewUser(u))
}

func (s *Server) handleDeleteUser(c echo.Context) error {
	id := c.Param("id")
	u, err := s.store.Users().Get(id)
	if err != nil {
		return userError(err)
	}
	if err := s.store.Users().Delete(id); err != nil {
		return userError(err)
	}
	s.audit(c, store.AuditEvent{Action: "user.delete", Target: id, Detail: u.Email})
	return c.NoContent(http.StatusNoContent)
}

type resetResponse struct {
	User     userView `json:"user"`
	Password string   `json:"password,omitempty"` // only when generated: shown this once
}

// handleResetPassword sets the password an admin gives, or a random one returned
// once. Either way the user's sessions end.
func (s *Server) handleResetPassword(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	password, err := parseReset(body)
	if err != nil {
		return err
	}
	var generated string
	if password == "" {
		if generated, err = auth.RandomPassword(20); err != nil {
			return err
		}
		password = generated
	}
	hash, err := s.auth.hasher.Hash(c.Request().Context(), password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u, err := s.store.Users().SetPassword(c.Param("id"), hash)
	if err != nil {
		return userError(err)
	}
	s.audit(c, store.AuditEvent{Action: "user.password_reset", Target: u.ID, Detail: u.Email})
	return c.JSON(http.StatusOK, resetResponse{User: viewUser(u), Password: generated})
}

func (s *Server) handleLogin(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	cr, err := parseLogin(c.Request().Header.Get(echo.HeaderContentType), body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// The account is looked up before the throttle is asked: a device cookie is only
	// valid for the account it was issued for. A missing account is an empty User.
	u, err := s.store.Users().ByEmail(cr.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	client, known := s.loginClient(c, u)
	if refusal, ok := s.auth.throttle.Check(cr.Email, client, known); !ok {
		secs := int((refusal.RetryAfter + time.Second - 1) / time.Second)
		return &Error{Status: http.StatusTooManyRequests, RetryAfter: secs,
			Message: "too many failed sign-in attempts: try again in " + strconv.Itoa(secs) + " seconds"}
	}
	if u.ID == "" {
		// Do the hashing anyway: how long the answer takes must not tell whether
		// the account exists.
		if err := s.auth.hasher.VerifyDummy(ctx, cr.Password); err != nil {
			return err
		}
		return s.loginFailed(c, cr.Email, client, known, u)
	}
	ok, err := s.auth.hasher.Verify(ctx, cr.Password, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	if !ok {
		return s.loginFailed(c, cr.Email, client, known, u)
	}
	// The password was right, so saying why the account cannot sign in leaks nothing.
	if e := statusError(u); e != nil {
		s.audit(c, store.AuditEvent{Action: "auth.login", Status: store.AuditError, UserID: u.ID, UserEmail: u.Email,
			HTTPStatus: e.Status, ErrorType: "permission_error", ErrorMessage: e.Message})
		return e
	}
	if err := s.auth.throttle.Succeed(cr.Email, client); err != nil {
		s.log.Warn("forget sign-in failures", "user", u.ID, "err", err)
	}
	token, claims, err := s.auth.tokens.Issue(u.ID, u.TokenGen)
	if err != nil {
		return err
	}
	if _, err := s.store.Users().RecordLogin(u.ID, claims.IssuedAt); err != nil {
		s.log.Warn("record login", "user", u.ID, "err", err)
	}
	if !known {
		s.setDeviceCookie(c, u)
	}
	s.audit(c, store.AuditEvent{Action: "auth.login", UserID: u.ID, UserEmail: u.Email, HTTPStatus: http.StatusOK})
	return c.JSON(http.StatusOK, tokenResponse{AccessToken: token, TokenType: "bearer", ExpiresIn: int(auth.TokenTTL / time.Second)})
}

// loginFailed counts the failure and answers 401 with one message for a wrong
// password and an unknown email alike. Unknown emails are not written to the audit
// log: people type passwords into the email field.
func (s *Server) loginFailed(c echo.Context, email, client string, known bool, u store.User) error {
	events, err := s.auth.throttle.Fail(email, client, known)
	if err != nil {
		// The count in memory holds until the restart; only its durability was lost.
		s.log.Warn("persist sign-in failure", "err", err)
	}
	if u.ID != "" {
		// Lockouts of unknown e-mails are not audited, for the reason below.
		s.auditLockouts(c, u, events)
	}
	e := unauthorized("invalid_credentials", "invalid email or password")
	s.audit(c, store.AuditEvent{Action: "auth.login", Status: store.AuditError, UserID: u.ID, UserEmail: u.Email,
		HTTPStatus: e.Status, ErrorType: "authentication_error", ErrorMessage: e.Message})
	return e
}
