package api

import (
	"crypto/subtle"
	"fmt"
	"net/http"

	"github.com/mlx-manager/mlx-manager/store"
)

// The local credential lets the CLI of the OS user who runs the daemon act as
// the daemon's owner without copying a token: the daemon makes a new random
// one at each start and writes it to a 0600 file in its 0700 data dir, which
// only that OS user (or root) can read, and whoever can read the data dir has
// the database and the JWT secret anyway (SECURITY.md). It is accepted from
// loopback clients only and is never stored in the database.

// isLocalCredential reports whether cred is this run's local credential.
func (s *Server) isLocalCredential(cred string) bool {
	lc := s.opts.LocalCredential
	return lc != "" && subtle.ConstantTimeCompare([]byte(cred), []byte(lc)) == 1
}

// localOwner is the account the local credential acts as: the oldest active
// admin, who set the daemon up. A daemon without one refuses, rather than
// inventing an account that would take the first-account (admin) slot from
// the person who opens the web UI.
func (s *Server) localOwner() (store.User, error) {
	users, err := s.store.Users().List()
	if err != nil {
		return store.User{}, fmt.Errorf("find the local owner: %w", err)
	}
	var owner store.User
	for _, u := range users {
		if u.ActiveAdmin() && (owner.ID == "" || u.CreatedAt.Before(owner.CreatedAt)) {
			owner = u
		}
	}
	if owner.ID == "" {
		return store.User{}, &Error{Status: http.StatusForbidden, Code: "no_admin",
			Message: "this daemon has no admin account yet: open its web UI and create the first account (it becomes the admin), then try again"}
	}
	return owner, nil
}
