package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Records is a keyed collection of JSON documents whose shape belongs to another
// package: the download journal (engine/hub's task records) is one. The store keeps
// them durable without knowing their fields, so engine does not depend on store.
type Records struct {
	s      *Store
	bucket []byte
}

// Downloads is the journal of unfinished and recent downloads.
func (s *Store) Downloads() Records { return Records{s, bucketDownloads} }

// Lockouts is the sign-in throttling state (api/auth.Throttle's counters), kept so
// that restarting the daemon does not lift a lockout.
func (s *Store) Lockouts() Records { return Records{s, bucketLockouts} }

// Put stores the record under id, replacing any previous one.
func (r Records) Put(id string, v any) error {
	return r.s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(r.bucket), []byte(id), v)
	})
}

// Delete removes the record; a missing one is not an error.
func (r Records) Delete(id string) error {
	return r.s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(r.bucket).Delete([]byte(id))
	})
}

// All returns every record, in key order.
func (r Records) All() ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := r.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(r.bucket).ForEach(func(_, v []byte) error {
			out = append(out, append(json.RawMessage(nil), v...))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.bucket, err)
	}
	return out, nil
}

// ByID returns every record keyed by its id.
func (r Records) ByID() (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	err := r.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(r.bucket).ForEach(func(k, v []byte) error {
			out[string(k)] = append(json.RawMessage(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.bucket, err)
	}
	return out, nil
}
