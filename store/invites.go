package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Invite is a one-time link an admin hands to someone so they can create an
// account while registration is invite-only; the account it creates is approved
// at once, since an admin vouched for it. As with API keys, only the SHA-256 of
// the token is kept.
type Invite struct {
	ID        string    `json:"id"`
	Hash      string    `json:"hash"` // hex SHA-256 of the token
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by"` // the admin's user id
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedBy    string    `json:"used_by,omitempty"` // the user id it created
	UsedAt    time.Time `json:"used_at,omitzero"`
}

// ErrInviteInvalid is every reason an invite cannot be used (unknown, used,
// expired, revoked) in one error, so a caller cannot probe which tokens existed.
var ErrInviteInvalid = errors.New("the invite link is invalid, used or expired")

// Invites is the invites API.
type Invites struct{ s *Store }

// Invites returns the invites API.
func (s *Store) Invites() Invites { return Invites{s} }

// Create stores an invite made by the admin createdBy, valid until expires.
func (is Invites) Create(createdBy, note string, hash [32]byte, expires time.Time) (Invite, error) {
	inv := Invite{
		ID: newID(), Hash: hex.EncodeToString(hash[:]), Note: note, CreatedBy: createdBy,
		CreatedAt: is.s.now().UTC(), ExpiresAt: expires.UTC(),
	}
	err := is.s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(createdBy)) == nil {
			return fmt.Errorf("user %s: %w", createdBy, ErrNotFound)
		}
		byHash := tx.Bucket(bucketInviteHashes)
		if byHash.Get([]byte(inv.Hash)) != nil {
			return ErrConflict
		}
		if err := byHash.Put([]byte(inv.Hash), []byte(inv.ID)); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketInvites), []byte(inv.ID), inv)
	})
	if err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	return inv, nil
}

// List returns every invite, newest first.
func (is Invites) List() ([]Invite, error) {
	var out []Invite
	err := is.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInvites)
		return b.ForEach(func(k, _ []byte) error {
			var inv Invite
			if err := getJSON(b, k, &inv); err != nil {
				return err
			}
			out = append(out, inv)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// Delete revokes an invite; a used one stays listed as a record of who came in
// through it, so only unused invites can be deleted.
func (is Invites) Delete(id string) (Invite, error) {
	var inv Invite
	err := is.s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bucketInvites), []byte(id), &inv); err != nil {
			return err
		}
		if inv.UsedBy != "" {
			return ErrConflict
		}
		if err := tx.Bucket(bucketInviteHashes).Delete([]byte(inv.Hash)); err != nil {
			return err
		}
		return tx.Bucket(bucketInvites).Delete([]byte(id))
	})
	if err != nil {
		return Invite{}, fmt.Errorf("delete invite %s: %w", id, err)
	}
	return inv, nil
}

// CreateInvited creates an approved account with the invite whose token hashes to
// hash, and marks the invite used, in one transaction: an invite is never spent on
// an account that was not created, and never creates two.
func (us Users) CreateInvited(email, passwordHash string, hash [32]byte) (User, Invite, error) {
	now := us.s.now().UTC()
	u := User{
		ID: newID(), Email: string(emailKey(email)), PasswordHash: passwordHash,
		Status: StatusApproved, CreatedAt: now, UpdatedAt: now,
	}
	var inv Invite
	err := us.s.db.Update(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketInviteHashes).Get([]byte(hex.EncodeToString(hash[:])))
		if id == nil {
			return ErrInviteInvalid
		}
		invites := tx.Bucket(bucketInvites)
		if err := getJSON(invites, id, &inv); err != nil {
			return err
		}
		if inv.UsedBy != "" || !now.Before(inv.ExpiresAt) {
			return ErrInviteInvalid
		}
		users, byEmail := tx.Bucket(bucketUsers), tx.Bucket(bucketUserEmails)
		if byEmail.Get([]byte(u.Email)) != nil {
			return ErrConflict
		}
		inv.UsedBy, inv.UsedAt = u.ID, now
		us.s.onCommit(tx, ChangeUsers, u.ID)
		if err := putJSON(invites, id, inv); err != nil {
			return err
		}
		if err := byEmail.Put([]byte(u.Email), []byte(u.ID)); err != nil {
			return err
		}
		return putJSON(users, []byte(u.ID), u)
	})
	if err != nil {
		return User{}, Invite{}, fmt.Errorf("create invited user %q: %w", u.Email, err)
	}
	return u, inv, nil
}
