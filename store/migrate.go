package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var keySchemaVersion = []byte("schema_version")

// migrations[i] upgrades the schema from version i to i+1. Each runs in the same
// transaction as the version bump, so a crash leaves either the old or the new schema.
var migrations = []func(tx *bolt.Tx) error{
	// 0 → 1: the initial buckets.
	func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// 1 → 2: profiles have owners (issue #27). Those made before belong to the first
	// admin and stay visible to everyone, as they were, but only admins may change them.
	migrateProfileOwners,
}

func migrateProfileOwners(tx *bolt.Tx) error {
	var owner User
	err := tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
		var u User
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("user %s: %w", k, err)
		}
		if u.IsAdmin && (owner.ID == "" || u.CreatedAt.Before(owner.CreatedAt)) {
			owner = u
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Collected first: bbolt cursors are not safe across writes to their bucket.
	b := tx.Bucket(bucketProfiles)
	var orphans []Profile
	err = b.ForEach(func(k, _ []byte) error {
		var p Profile
		if err := getJSON(b, k, &p); err != nil {
			return err
		}
		if p.OwnerID == "" {
			orphans = append(orphans, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range orphans {
		// With no admin yet the owner stays empty: only admins may edit such a profile.
		p.OwnerID, p.Shared = owner.ID, true
		if err := putJSON(b, []byte(p.ID), p); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the version this build writes.
var SchemaVersion = uint64(len(migrations))

func (s *Store) migrate() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		var v uint64
		if b := meta.Get(keySchemaVersion); len(b) == 8 {
			v = binary.BigEndian.Uint64(b)
		}
		if v > SchemaVersion {
			return fmt.Errorf("database schema version %d is newer than this build's %d: upgrade mlx-manager", v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
		}
		// Buckets added later without a data migration are created here.
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, SchemaVersion))
	})
}
