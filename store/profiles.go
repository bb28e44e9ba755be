package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Profile is a named model configuration: a model plus the defaults that apply
// when a request names the profile instead of the model.
type Profile struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Model         string   `json:"model"`
	SystemPrompt  string   `json:"system_prompt,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"top_p,omitempty"`
	MaxTokens     *int     `json:"max_tokens,omitempty"`
	ContextLength int      `json:"context_length,omitempty"`
	TTLSeconds    *int     `json:"ttl_seconds,omitempty"`
	AutoStart     bool     `json:"auto_start"`
	ToolFormat    string   `json:"tool_format,omitempty"` // overrides the tool-call format read from the template
	// Parallel is how many requests the profile's model decodes together; 0 leaves
	// it to the pool setting. Admins set it (it sizes the model's KV memory for
	// everyone); see ModelParallel.
	Parallel int `json:"parallel,omitempty"`
	// OwnerID is the user who created the profile; only they and admins may change
	// it. Shared lets every other user see and use it, read-only.
	OwnerID   string    `json:"owner_id,omitempty"`
	Shared    bool      `json:"shared"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// VisibleTo reports whether u may see and use the profile: its owner, an admin, or
// anyone when it is shared.
func (p Profile) VisibleTo(u User) bool {
	return p.Shared || u.ActiveAdmin() || (p.OwnerID != "" && p.OwnerID == u.ID)
}

// EditableBy reports whether u may change or delete the profile: its owner or an admin.
func (p Profile) EditableBy(u User) bool {
	return u.ActiveAdmin() || (p.OwnerID != "" && p.OwnerID == u.ID)
}

// CountOwned returns how many profiles ownerID owns.
func (ps Profiles) CountOwned(ownerID string) (int, error) {
	all, err := ps.List()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range all {
		if p.OwnerID == ownerID {
			n++
		}
	}
	return n, nil
}

// Profiles is the profiles API. Names are unique, compared case-insensitively.
type Profiles struct{ s *Store }

// Profiles returns the profiles API.
func (s *Store) Profiles() Profiles { return Profiles{s} }

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Create stores a new profile, assigning its id and timestamps.
func (ps Profiles) Create(p Profile) (Profile, error) {
	p.ID = newID()
	p.CreatedAt = ps.s.now().UTC()
	p.UpdatedAt = p.CreatedAt
	err := ps.s.db.Update(func(tx *bolt.Tx) error {
		ps.s.invalidateProfilesOnCommit(tx)
		b := tx.Bucket(bucketProfiles)
		if err := nameTaken(b, p.Name, ""); err != nil {
			return err
		}
		return putJSON(b, []byte(p.ID), p)
	})
	if err != nil {
		return Profile{}, fmt.Errorf("create profile %q: %w", p.Name, err)
	}
	return p, nil
}

// Update replaces the profile with id, keeping its creation time and owner.
func (ps Profiles) Update(id string, p Profile) (Profile, error) {
	err := ps.s.db.Update(func(tx *bolt.Tx) error {
		ps.s.invalidateProfilesOnCommit(tx)
		b := tx.Bucket(bucketProfiles)
		var old Profile
		if err := getJSON(b, []byte(id), &old); err != nil {
			return err
		}
		if err := nameTaken(b, p.Name, id); err != nil {
			return err
		}
		p.ID, p.CreatedAt, p.UpdatedAt, p.OwnerID = id, old.CreatedAt, ps.s.now().UTC(), old.OwnerID
		return putJSON(b, []byte(id), p)
	})
	if err != nil {
		return Profile{}, fmt.Errorf("update profile %s: %w", id, err)
	}
	return p, nil
}

func nameTaken(b *bolt.Bucket, name, exceptID string) error {
	return b.ForEach(func(k, v []byte) error {
		var p Profile
		if err := getJSON(b, k, &p); err != nil {
			return err
		}
		if p.ID != exceptID && strings.EqualFold(p.Name, name) {
			return fmt.Errorf("profile name %q: %w", name, ErrConflict)
		}
		return nil
	})
}

// Get returns the profile with id. Every /v1 request whose model is not a
// profile name asks, so the answer comes from the profile view (profilecache.go).
func (ps Profiles) Get(id string) (Profile, error) {
	v, err := ps.view()
	if err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", id, err)
	}
	if p, ok := v.lookupID(id); ok {
		return p, nil
	}
	return Profile{}, fmt.Errorf("profile %s: %w", id, ErrNotFound)
}

// ByName returns the profile with that name (case-insensitive), from the
// profile view: every /v1 request asks.
func (ps Profiles) ByName(name string) (Profile, error) {
	v, err := ps.view()
	if err != nil {
		return Profile{}, err
	}
	if p, ok := v.lookupName(name); ok {
		return p, nil
	}
	return Profile{}, fmt.Errorf("profile %q: %w", name, ErrNotFound)
}

// Find returns the profile that ref names, by name (case-insensitive) and
// then by id, as a request's model field is read; ok is false when there is
// none. Unlike ByName and Get, a miss costs no error value: most requests name
// a model, not a profile.
func (ps Profiles) Find(ref string) (p Profile, ok bool, err error) {
	v, err := ps.view()
	if err != nil {
		return Profile{}, false, err
	}
	if p, ok = v.lookupName(ref); !ok {
		p, ok = v.lookupID(ref)
	}
	return p, ok, nil
}

// List returns every profile sorted by name.
func (ps Profiles) List() ([]Profile, error) {
	v, err := ps.view()
	if err != nil {
		return nil, err
	}
	if len(v.list) == 0 {
		return nil, nil
	}
	out := make([]Profile, len(v.list))
	for i, p := range v.list {
		out[i] = p.clone()
	}
	return out, nil
}

// Delete removes the profile with id.
func (ps Profiles) Delete(id string) error {
	err := ps.s.db.Update(func(tx *bolt.Tx) error {
		ps.s.invalidateProfilesOnCommit(tx)
		b := tx.Bucket(bucketProfiles)
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("delete profile %s: %w", id, err)
	}
	return nil
}
