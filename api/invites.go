package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

// Registration modes, the "registration" field of the auth settings
// (store.AuthSettings validates it).
const (
	registrationOpen   = store.RegistrationOpen
	registrationInvite = store.RegistrationInvite
	registrationClosed = store.RegistrationClosed
)

const (
	defaultInviteTTL = 72 * time.Hour
	maxInviteTTL     = 30 * 24 * time.Hour
	maxInviteNoteLen = 200
)

// inviteView is an invite as listed: never its token.
type inviteView struct {
	ID        string    `json:"id"`
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	State     string    `json:"state"` // active, used, expired
	UsedBy    string    `json:"used_by,omitempty"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}

func viewInvite(inv store.Invite, now time.Time) inviteView {
	state := "active"
	switch {
	case inv.UsedBy != "":
		state = "used"
	case !now.Before(inv.ExpiresAt):
		state = "expired"
	}
	return inviteView{ID: inv.ID, Note: inv.Note, CreatedBy: inv.CreatedBy, CreatedAt: inv.CreatedAt,
		ExpiresAt: inv.ExpiresAt, State: state, UsedBy: inv.UsedBy, UsedAt: inv.UsedAt}
}

// createdInvite is the one response that carries the token, inside a link to the
// UI's sign-up form; it is stored nowhere.
type createdInvite struct {
	inviteView
	Token string `json:"token"`
	URL   string `json:"url"`
}

// newInviteToken returns a token with 256 random bits, URL-safe so it travels in
// a link, and its SHA-256 (enough for the same reason as for API keys).
func newInviteToken() (string, [32]byte, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", [32]byte{}, fmt.Errorf("generate invite token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	return tok, sha256.Sum256([]byte(tok)), nil
}

// inviteRequest is POST /api/auth/invites's body.
type inviteRequest struct {
	Note           string   `json:"note"`
	ExpiresInHours *float64 `json:"expires_in_hours"`
}

func (s *Server) handleCreateInvite(c echo.Context) error {
	var req inviteRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	note := strings.TrimSpace(req.Note)
	if utf8.RuneCountInString(note) > maxInviteNoteLen {
		return unprocessable("note", "note: at most %d characters", maxInviteNoteLen)
	}
	ttl := defaultInviteTTL
	if req.ExpiresInHours != nil {
		h := *req.ExpiresInHours
		if !(h > 0) || h*float64(time.Hour) > float64(maxInviteTTL) {
			return unprocessable("expires_in_hours", "expires_in_hours must be more than 0 and at most %d", int(maxInviteTTL/time.Hour))
		}
		ttl = time.Duration(h * float64(time.Hour))
	}
	tok, hash, err := newInviteToken()
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	now := s.now()
	inv, err := s.store.Invites().Create(u.ID, note, hash, now.Add(ttl))
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "invite.create", Target: inv.ID,
		Detail: fmt.Sprintf("expires %s", inv.ExpiresAt.Format(time.RFC3339))})
	link := c.Scheme() + "://" + c.Request().Host + "/login?invite=" + tok
	return c.JSON(http.StatusCreated, createdInvite{inviteView: viewInvite(inv, now), Token: tok, URL: link})
}

func (s *Server) handleListInvites(c echo.Context) error {
	list, err := s.store.Invites().List()
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]inviteView, 0, len(list))
	for _, inv := range list {
		out = append(out, viewInvite(inv, now))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleDeleteInvite(c echo.Context) error {
	inv, err := s.store.Invites().Delete(c.Param("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Message: "invite not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "invite_used", Message: "this invite was already used: it stays as a record", Err: err}
	case err != nil:
		return err
	}
	s.audit(c, store.AuditEvent{Action: "invite.delete", Target: inv.ID})
	return c.NoContent(http.StatusNoContent)
}

// registrationMode is the auth settings' registration mode, "open" when unset.
func (s *Server) registrationMode() (string, error) {
	set, err := s.authSettings()
	if err != nil {
		return "", err
	}
	if set.Registration == "" {
		return registrationOpen, nil
	}
	return set.Registration, nil
}

// registerInvited creates an approved account with an invite. An invite works
// whatever the mode except "closed", and is not held to the pending-accounts cap
// (its account is not pending), but the hourly rate still applies so invites
// cannot be used to burn Argon2 time.
func (s *Server) registerInvited(c echo.Context, cr credentials) error {
	mode, err := s.registrationMode()
	if err != nil {
		return err
	}
	if mode == registrationClosed {
		return registrationClosedError()
	}
	if err := s.registrationRate(); err != nil {
		return err
	}
	hash, err := s.auth.hasher.Hash(c.Request().Context(), cr.Password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u, inv, err := s.store.Users().CreateInvited(cr.Email, hash, sha256.Sum256([]byte(cr.Invite)))
	switch {
	case errors.Is(err, store.ErrInviteInvalid):
		return &Error{Status: http.StatusForbidden, Code: "invite_invalid", Param: "invite", Message: store.ErrInviteInvalid.Error() + ": ask an admin for a new one", Err: err}
	case errors.Is(err, store.ErrConflict):
		// The invite holder was vouched for by an admin, and the invite is not
		// spent: telling them the address has an account is the helpful answer.
		return &Error{Status: http.StatusConflict, Code: "email_taken", Param: "email", Message: "an account with this e-mail exists: sign in instead (the invite is still valid)"}
	case err != nil:
		return err
	}
	s.audit(c, store.AuditEvent{Action: "auth.register", UserID: u.ID, UserEmail: u.Email, Target: u.ID,
		Detail: "approved by invite " + inv.ID + " from " + inv.CreatedBy})
	return c.JSON(http.StatusCreated, viewUser(u))
}

func registrationClosedError() *Error {
	return &Error{Status: http.StatusForbidden, Code: "registration_disabled",
		Message: "registration is disabled on this server: ask an admin for an account"}
}

// decoyID looks like a user id (store ids are 8 random bytes in hex) for the
// answer to a registration with an e-mail that already has an account.
func decoyID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
