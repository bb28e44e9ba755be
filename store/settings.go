package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Settings are named JSON documents (for example "pool", "auth", "hub"). The
// typed ones (PoolSettings, HubSettings, AuditRetention) have their shape and
// their Validate here, and their Put validates; the others belong to their
// consumer.
type Settings struct{ s *Store }

// SettingError is a settings document that fails its Validate: the field (its
// JSON name) and why, in words a user can act on.
type SettingError struct {
	Field  string
	Reason string
}

func (e *SettingError) Error() string { return e.Reason }

// Settings returns the settings API.
func (s *Store) Settings() Settings { return Settings{s} }

// Get decodes the setting into v. It returns ErrNotFound when it was never set,
// so callers keep their defaults. Some are read by every request (auth's
// quotas), so the document comes from the read cache when it can (readcache.go).
func (st Settings) Get(key string, v any) error {
	item, ok := st.s.reads.setting(key)
	if !ok {
		gen := st.s.reads.generation()
		err := st.s.db.View(func(tx *bolt.Tx) error {
			if data := tx.Bucket(bucketSettings).Get([]byte(key)); data != nil {
				item.data = bytes.Clone(data) // bbolt's memory is valid only in the transaction
			}
			return nil
		})
		if err != nil {
			return err
		}
		st.s.reads.fillSetting(gen, key, item.data)
	}
	if item.data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(item.data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// Put stores v as the setting's new value.
func (st Settings) Put(key string, v any) error {
	return st.s.db.Update(func(tx *bolt.Tx) error {
		st.s.onCommit(tx, ChangeSettings, key)
		return putJSON(tx.Bucket(bucketSettings), []byte(key), v)
	})
}

// All returns every setting as raw JSON, by key.
func (st Settings) All() (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	err := st.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).ForEach(func(k, v []byte) error {
			out[string(k)] = append(json.RawMessage(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return out, nil
}
