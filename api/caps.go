package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/store"
)

// Caps bound what one user can make the daemon store or compute (issue #27: a flood
// of 1,000 registrations, 300 API keys and 600 profiles went through). They live in
// the "auth" settings document (store.AccountCaps); zero means the default below.
type capSettings = store.AccountCaps

const registrationWindow = time.Hour

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// capsWithDefaults fills the caps left at 0.
func capsWithDefaults(c capSettings) capSettings {
	return capSettings{
		MaxPendingAccounts:   orDefault(c.MaxPendingAccounts, 50),
		RegistrationsPerHour: orDefault(c.RegistrationsPerHour, 30),
		MaxAPIKeysPerUser:    orDefault(c.MaxAPIKeysPerUser, 20),
		MaxProfilesPerUser:   orDefault(c.MaxProfilesPerUser, 50),
	}
}

func (s *Server) caps() (capSettings, error) {
	set, err := s.authSettings()
	if err != nil {
		return capSettings{}, err
	}
	return capsWithDefaults(set.AccountCaps), nil
}

func capError(what string, max int) *Error {
	return &Error{Status: http.StatusForbidden, Code: "limit_reached",
		Message: fmt.Sprintf("limit reached: at most %d %s (an admin can change it in the auth settings)", max, what)}
}

// registrationAllowed applies the registration mode, the pending-accounts cap and
// the registration rate before any password is hashed, so a flood costs no Argon2
// work once over the cap. The very first account (the admin) is never refused.
func (s *Server) registrationAllowed() error {
	mode, err := s.registrationMode()
	if err != nil {
		return err
	}
	if mode != registrationOpen {
		users, err := s.store.Users().List()
		if err != nil {
			return err
		}
		switch {
		case len(users) == 0:
			return nil // the first account, which becomes the admin
		case mode == registrationClosed:
			return registrationClosedError()
		default:
			return &Error{Status: http.StatusForbidden, Code: "invite_required", Param: "invite",
				Message: "registration on this server is by invitation: open the invite link an admin sent you"}
		}
	}
	caps, err := s.caps()
	if err != nil {
		return err
	}
	n, err := s.store.Users().CountPending()
	if err != nil {
		return err
	}
	if n >= caps.MaxPendingAccounts {
		return &Error{Status: http.StatusServiceUnavailable, Code: "registration_closed", RetryAfter: int(registrationWindow / time.Second),
			Message: fmt.Sprintf("registration is closed for now: %d accounts await an admin's approval", n)}
	}
	return s.registrationRate()
}

// registrationRate counts one registration attempt against the hourly rate of all
// clients together.
func (s *Server) registrationRate() error {
	caps, err := s.caps()
	if err != nil {
		return err
	}
	if wait, ok := s.registrations.CheckMax("all", caps.RegistrationsPerHour); !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: secs,
			Message: fmt.Sprintf("too many registrations: try again in %d seconds", secs)}
	}
	s.registrations.Fail("all") // counts attempts, not failures, here
	return nil
}

func (s *Server) apiKeyAllowed(u store.User) error {
	caps, err := s.caps()
	if err != nil {
		return err
	}
	keys, err := s.store.APIKeys().List(u.ID)
	if err != nil {
		return err
	}
	if len(keys) >= caps.MaxAPIKeysPerUser {
		return capError("API keys per user", caps.MaxAPIKeysPerUser)
	}
	return nil
}

func (s *Server) profileAllowed(c echo.Context) error {
	u, _ := currentUser(c)
	if u.ActiveAdmin() {
		return nil
	}
	caps, err := s.caps()
	if err != nil {
		return err
	}
	n, err := s.store.Profiles().CountOwned(u.ID)
	if err != nil {
		return err
	}
	if n >= caps.MaxProfilesPerUser {
		return capError("profiles per user", caps.MaxProfilesPerUser)
	}
	return nil
}
