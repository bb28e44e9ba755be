package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditRetention bounds the audit log by age and by size; it is the "audit"
// settings document.
type AuditRetention struct {
	Days      int `json:"retention_days"`
	MaxEvents int `json:"max_events"`
}

// DefaultAuditRetention applies until an admin changes it.
var DefaultAuditRetention = AuditRetention{Days: 30, MaxEvents: 100_000}

const settingAudit = "audit"

// Validate refuses retention settings that make no sense.
func (r AuditRetention) Validate() error {
	if r.Days < 1 || r.Days > 3650 {
		return fmt.Errorf("retention_days %d: want 1 to 3650", r.Days)
	}
	if r.MaxEvents < 100 || r.MaxEvents > 10_000_000 {
		return fmt.Errorf("max_events %d: want 100 to 10000000", r.MaxEvents)
	}
	return nil
}

// Retention returns the configured retention, or the default when none was set.
func (a Audit) Retention() (AuditRetention, error) {
	r := DefaultAuditRetention
	if err := a.s.Settings().Get(settingAudit, &r); err != nil && !errors.Is(err, ErrNotFound) {
		return AuditRetention{}, fmt.Errorf("read audit retention: %w", err)
	}
	return r, nil
}

// SetRetention validates and stores r.
func (a Audit) SetRetention(r AuditRetention) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := a.s.Settings().Put(settingAudit, r); err != nil {
		return fmt.Errorf("store audit retention: %w", err)
	}
	return nil
}

// EnforceRetention prunes the log to the configured retention and returns how many
// events it removed.
func (a Audit) EnforceRetention() (int, error) {
	r, err := a.Retention()
	if err != nil {
		return 0, err
	}
	return a.Prune(a.s.now().Add(-time.Duration(r.Days)*24*time.Hour), r.MaxEvents)
}

// defaultPruneBatch bounds one transaction, so pruning a huge backlog never holds
// the write lock (and request handling) for long (Store.pruneBatch; tests lower it).
const defaultPruneBatch = 5000

// Prune deletes events older than before and then the oldest beyond maxEvents
// (0 = no cap). It returns the number deleted.
func (a Audit) Prune(before time.Time, maxEvents int) (int, error) {
	cut := timeKey(before)
	total := 0
	for {
		n, err := a.deleteOldest(func(k []byte, _ int) bool { return bytes.Compare(k, cut) < 0 })
		total += n
		if err != nil {
			return total, fmt.Errorf("prune audit log: %w", err)
		}
		if n < a.s.pruneBatch {
			break
		}
	}
	if maxEvents <= 0 {
		return total, nil
	}
	for {
		count, err := a.Count()
		if err != nil {
			return total, fmt.Errorf("prune audit log: %w", err)
		}
		excess := count - maxEvents
		if excess <= 0 {
			return total, nil
		}
		n, err := a.deleteOldest(func(_ []byte, i int) bool { return i < excess })
		total += n
		if err != nil {
			return total, fmt.Errorf("prune audit log: %w", err)
		}
		if n == 0 {
			return total, nil
		}
	}
}

// deleteOldest deletes, in one transaction, up to Store.pruneBatch of the oldest events
// for which del(key, index from the oldest) holds, stopping at the first that fails.
func (a Audit) deleteOldest(del func(k []byte, i int) bool) (int, error) {
	n := 0
	err := a.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var keys [][]byte
		c := b.Cursor()
		// Collect first: deleting under a moving cursor can skip keys in bbolt.
		for k, _ := c.First(); k != nil && len(keys) < a.s.pruneBatch && del(k, len(keys)); k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}
