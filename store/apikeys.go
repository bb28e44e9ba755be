package store

import (
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// APIKey is a named credential for scripts. Only the SHA-256 of the key is kept:
// keys are long random strings, so a fast hash is enough and a stolen database
// reveals none of them. Prefix is the key's first characters, shown to tell keys apart.
type APIKey struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Hash       string    `json:"hash"` // hex SHA-256 of the whole key
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// APIKeys is the API keys API.
type APIKeys struct{ s *Store }

// APIKeys returns the API keys API.
func (s *Store) APIKeys() APIKeys { return APIKeys{s} }

// Create stores a key for userID, who must exist.
func (ks APIKeys) Create(userID, name, prefix string, hash [32]byte) (APIKey, error) {
	k := APIKey{
		ID: newID(), UserID: userID, Name: name, Prefix: prefix,
		Hash: hex.EncodeToString(hash[:]), CreatedAt: ks.s.now().UTC(),
	}
	err := ks.s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketUsers).Get([]byte(userID)) == nil {
			return fmt.Errorf("user %s: %w", userID, ErrNotFound)
		}
		byHash := tx.Bucket(bucketKeyHashes)
		if byHash.Get([]byte(k.Hash)) != nil {
			return ErrConflict
		}
		ks.s.invalidateOnCommit(tx)
		if err := byHash.Put([]byte(k.Hash), []byte(k.ID)); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketAPIKeys), []byte(k.ID), k)
	})
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key %q: %w", name, err)
	}
	return k, nil
}

// List returns userID's keys, newest first.
func (ks APIKeys) List(userID string) ([]APIKey, error) {
	var out []APIKey
	err := ks.s.db.View(func(tx *bolt.Tx) error {
		return eachKey(tx, func(k APIKey) error {
			if k.UserID == userID {
				out = append(out, k)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

func eachKey(tx *bolt.Tx, fn func(APIKey) error) error {
	b := tx.Bucket(bucketAPIKeys)
	return b.ForEach(func(id, _ []byte) error {
		var k APIKey
		if err := getJSON(b, id, &k); err != nil {
			return err
		}
		return fn(k)
	})
}

// Resolve finds the key with this hash and its owner, read in one transaction so a
// key never resolves to a user deleted in between. Every authenticated request
// asks, so the answer comes from the read cache when it can (readcache.go).
func (ks APIKeys) Resolve(hash [32]byte) (APIKey, User, error) {
	if e, ok := ks.s.reads.key(hash); ok {
		return e.key, e.owner, nil
	}
	var (
		k APIKey
		u User
	)
	gen := ks.s.reads.generation()
	err := ks.s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketKeyHashes).Get([]byte(hex.EncodeToString(hash[:])))
		if id == nil {
			return ErrNotFound
		}
		if err := getJSON(tx.Bucket(bucketAPIKeys), id, &k); err != nil {
			return err
		}
		return getJSON(tx.Bucket(bucketUsers), []byte(k.UserID), &u)
	})
	if err != nil {
		return APIKey{}, User{}, fmt.Errorf("resolve api key: %w", err)
	}
	ks.s.reads.fillKey(gen, hash, keyEntry{key: k, owner: u})
	return k, u, nil
}

// Touch records that the key was used at t.
func (ks APIKeys) Touch(id string, t time.Time) error {
	err := ks.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPIKeys)
		var k APIKey
		if err := getJSON(b, []byte(id), &k); err != nil {
			return err
		}
		k.LastUsedAt = t.UTC()
		ks.s.invalidateOnCommit(tx)
		return putJSON(b, []byte(id), k)
	})
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// Delete revokes the key with id if it belongs to userID; another user's key is
// ErrNotFound, so ids cannot be probed.
func (ks APIKeys) Delete(userID, id string) (APIKey, error) {
	var k APIKey
	err := ks.s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bucketAPIKeys), []byte(id), &k); err != nil {
			return err
		}
		if k.UserID != userID {
			return ErrNotFound
		}
		ks.s.invalidateOnCommit(tx)
		return deleteKey(tx, k)
	})
	if err != nil {
		return APIKey{}, fmt.Errorf("delete api key %s: %w", id, err)
	}
	return k, nil
}

func deleteKey(tx *bolt.Tx, k APIKey) error {
	if err := tx.Bucket(bucketKeyHashes).Delete([]byte(k.Hash)); err != nil {
		return err
	}
	return tx.Bucket(bucketAPIKeys).Delete([]byte(k.ID))
}

func deleteKeysOf(tx *bolt.Tx, userID string) error {
	var mine []APIKey
	err := eachKey(tx, func(k APIKey) error {
		if k.UserID == userID {
			mine = append(mine, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range mine {
		if err := deleteKey(tx, k); err != nil {
			return err
		}
	}
	return nil
}
