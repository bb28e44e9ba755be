package store

import (
	"encoding/binary"
	"encoding/hex"

	bolt "go.etcd.io/bbolt"
)

// SetPruneBatch shrinks s's prune transaction size so tests cross batch
// boundaries with few events. Call it before s is used.
func (s *Store) SetPruneBatch(n int) { s.pruneBatch = n }

// AppendInOneTx writes evs in a single transaction, for benchmarks that need a large
// log quickly (Append pays one fsync per event).
func (a Audit) AppendInOneTx(evs []AuditEvent) error {
	return a.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		for _, ev := range evs {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			key := binary.BigEndian.AppendUint64(timeKey(ev.Time), seq)
			ev.ID = hex.EncodeToString(key)
			if err := putJSON(b, key, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetMaxResponses lowers s's cap on stored responses. Call it before s is used.
func (s *Store) SetMaxResponses(n int) { s.maxResponses = n }
