package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// UserStatus is where an account is in its life: registered users wait in pending
// until an admin approves them; disabled ones keep their record but cannot sign in.
type UserStatus string

// User statuses.
const (
	StatusPending  UserStatus = "pending"
	StatusApproved UserStatus = "approved"
	StatusDisabled UserStatus = "disabled"
)

// Valid reports whether s is one of the known statuses.
func (s UserStatus) Valid() bool {
	return s == StatusPending || s == StatusApproved || s == StatusDisabled
}

// ErrLastAdmin refuses a change that would leave no approved admin: nobody could then
// approve users or change settings.
var ErrLastAdmin = errors.New("the last active admin cannot be removed, demoted or disabled")

// User is an account. PasswordHash is an Argon2id PHC string; the store never sees a
// password. TokenGen is the session generation: tokens carry the generation they were
// issued under, and bumping it (disable, password change) invalidates all of them.
type User struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	PasswordHash string     `json:"password_hash"`
	IsAdmin      bool       `json:"is_admin"`
	Status       UserStatus `json:"status"`
	TokenGen     uint64     `json:"token_gen"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LastLoginAt  time.Time  `json:"last_login_at,omitzero"`
}

// ActiveAdmin reports whether u can administer: an approved admin.
func (u User) ActiveAdmin() bool { return u.IsAdmin && u.Status == StatusApproved }

// Users is the users API. Emails are unique, compared after trimming and lower-casing.
type Users struct{ s *Store }

// Users returns the users API.
func (s *Store) Users() Users { return Users{s} }

func emailKey(email string) []byte { return []byte(strings.ToLower(strings.TrimSpace(email))) }

// Create registers an account. The first account ever becomes an approved admin and
// every later one starts pending; deciding that inside the insert's transaction means
// two racing first registrations cannot both become admin.
func (us Users) Create(email, passwordHash string) (User, error) {
	now := us.s.now().UTC()
	u := User{
		ID: newID(), Email: string(emailKey(email)), PasswordHash: passwordHash,
		Status: StatusPending, CreatedAt: now, UpdatedAt: now,
	}
	err := us.s.db.Update(func(tx *bolt.Tx) error {
		users, byEmail := tx.Bucket(bucketUsers), tx.Bucket(bucketUserEmails)
		if byEmail.Get([]byte(u.Email)) != nil {
			return ErrConflict
		}
		us.s.onCommit(tx, ChangeUsers, u.ID)
		if k, _ := users.Cursor().First(); k == nil {
			u.IsAdmin, u.Status = true, StatusApproved
		}
		if err := byEmail.Put([]byte(u.Email), []byte(u.ID)); err != nil {
			return err
		}
		return putJSON(users, []byte(u.ID), u)
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", u.Email, err)
	}
	return u, nil
}

// Get returns the user with id. Every request with a session token asks, so
// the answer comes from the read cache when it can (readcache.go).
func (us Users) Get(id string) (User, error) {
	if u, ok := us.s.reads.user(id); ok {
		return u, nil
	}
	var u User
	gen := us.s.reads.generation()
	err := us.s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketUsers), []byte(id), &u)
	})
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	us.s.reads.fillUser(gen, u)
	return u, nil
}

// ByEmail returns the user registered with email (normalised before the lookup).
func (us Users) ByEmail(email string) (User, error) {
	var u User
	err := us.s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketUserEmails).Get(emailKey(email))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketUsers), id, &u)
	})
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", strings.TrimSpace(email), err)
	}
	return u, nil
}

// List returns every user, oldest first.
func (us Users) List() ([]User, error) {
	var out []User
	err := us.s.db.View(func(tx *bolt.Tx) error {
		return eachUser(tx, func(u User) error { out = append(out, u); return nil })
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// CountPending is how many accounts wait for approval (the UI's badge).
func (us Users) CountPending() (int, error) {
	n := 0
	err := us.s.db.View(func(tx *bolt.Tx) error {
		return eachUser(tx, func(u User) error {
			if u.Status == StatusPending {
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("count pending users: %w", err)
	}
	return n, nil
}

func eachUser(tx *bolt.Tx, fn func(User) error) error {
	b := tx.Bucket(bucketUsers)
	return b.ForEach(func(k, _ []byte) error {
		var u User
		if err := getJSON(b, k, &u); err != nil {
			return err
		}
		return fn(u)
	})
}

// UserPatch changes an account's status or role; nil fields stay as they are.
type UserPatch struct {
	Status  *UserStatus
	IsAdmin *bool
}

// Update applies p to the user with id. Leaving approved (disable, back to pending)
// bumps the token generation so the user's sessions end at once. It returns
// ErrLastAdmin when the change would leave no active admin.
func (us Users) Update(id string, p UserPatch) (User, error) {
	if p.Status != nil && !p.Status.Valid() {
		return User{}, fmt.Errorf("update user %s: unknown status %q", id, *p.Status)
	}
	return us.modify(id, func(u *User) {
		if p.Status != nil {
			if *p.Status != StatusApproved && u.Status == StatusApproved {
				u.TokenGen++
			}
			u.Status = *p.Status
		}
		if p.IsAdmin != nil {
			u.IsAdmin = *p.IsAdmin
		}
	})
}

// SetPassword replaces the password hash and ends every session of the user.
func (us Users) SetPassword(id, passwordHash string) (User, error) {
	return us.modify(id, func(u *User) {
		u.PasswordHash = passwordHash
		u.TokenGen++
	})
}

// RecordLogin notes a successful sign-in.
func (us Users) RecordLogin(id string, at time.Time) (User, error) {
	return us.modify(id, func(u *User) { u.LastLoginAt = at.UTC() })
}

// modify reads, changes and writes one user in a single transaction, refusing the
// change when it would take away the last active admin.
func (us Users) modify(id string, change func(*User)) (User, error) {
	var u User
	err := us.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if err := getJSON(b, []byte(id), &u); err != nil {
			return err
		}
		wasAdmin := u.ActiveAdmin()
		change(&u)
		u.ID = id
		if wasAdmin && !u.ActiveAdmin() {
			if err := requireOtherAdmin(tx, id); err != nil {
				return err
			}
		}
		u.UpdatedAt = us.s.now().UTC()
		us.s.onCommit(tx, ChangeUsers, id)
		return putJSON(b, []byte(id), u)
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return u, nil
}

func requireOtherAdmin(tx *bolt.Tx, id string) error {
	found := errors.New("found")
	err := eachUser(tx, func(o User) error {
		if o.ID != id && o.ActiveAdmin() {
			return found
		}
		return nil
	})
	if errors.Is(err, found) {
		return nil
	}
	if err != nil {
		return err
	}
	return ErrLastAdmin
}

// Delete removes the user and their API keys in one transaction. Their audit events
// stay: the log is history. It returns ErrLastAdmin for the last active admin.
func (us Users) Delete(id string) error {
	err := us.s.db.Update(func(tx *bolt.Tx) error {
		var u User
		if err := getJSON(tx.Bucket(bucketUsers), []byte(id), &u); err != nil {
			return err
		}
		if u.ActiveAdmin() {
			if err := requireOtherAdmin(tx, id); err != nil {
				return err
			}
		}
		if err := deleteKeysOf(tx, id); err != nil {
			return err
		}
		us.s.onCommit(tx, ChangeUsers, id)
		if err := tx.Bucket(bucketUserEmails).Delete(emailKey(u.Email)); err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}
