package store

import (
	"encoding/binary"
	"encoding/hex"

	bolt "go.etcd.io/bbolt"
)

// SetPruneBatch shrinks the prune transaction size so tests cross batch boundaries
// with few events; the returned func restores it.
func SetPruneBatch(n int) (restore func()) {
	old := pruneBatch
	pruneBatch = n
	return func() { pruneBatch = old }
}

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

// SetMaxResponses lowers the stored responses' cap; the returned func restores it.
func SetMaxResponses(n int) (restore func()) {
	old := maxResponses
	maxResponses = n
	return func() { maxResponses = old }
}
