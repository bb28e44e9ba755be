// Package store keeps the daemon's durable state in one bbolt file, mlx-manager.db,
// in the data dir: users, API keys, audit events, settings, profiles and the download
// journal, and remote backends (their API keys sealed with backends.key, beside it).
// Nothing outside this package touches buckets; each entity has a small typed
// API. Every write is one bbolt transaction, fsynced before it returns, so a crash at
// any point loses no acknowledged write and leaves a file that opens. The one
// exception is Audit.AppendAsync, which a /v1 request's event takes: it returns
// before its shared transaction commits, so a crash may lose the events of the
// last few milliseconds (Options.AuditLinger and a commit); a clean Close writes
// them all.
//
// Who may import me: app and api. I import nothing of this project.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// FileName is the database file inside the data dir.
const FileName = "mlx-manager.db"

const pidFileName = "mlx-manager.pid"

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrLocked means another process holds the database: a second daemon on the same data dir.
	ErrLocked = errors.New("database is locked by another process")
)

// LockedError says which process holds the database, when it is known.
type LockedError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("already running, pid %d (database %s is locked)", e.PID, e.Path)
	}
	return fmt.Sprintf("already running (database %s is locked)", e.Path)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Bucket names. Adding one needs no migration: Open creates missing buckets.
var (
	bucketMeta         = []byte("meta")
	bucketUsers        = []byte("users")
	bucketUserEmails   = []byte("users_by_email")
	bucketAPIKeys      = []byte("api_keys")
	bucketKeyHashes    = []byte("api_keys_by_hash")
	bucketAudit        = []byte("audit")
	bucketSettings     = []byte("settings")
	bucketProfiles     = []byte("profiles")
	bucketDownloads    = []byte("downloads")
	bucketLockouts     = []byte("lockouts")
	bucketInvites      = []byte("invites")
	bucketInviteHashes = []byte("invites_by_hash")
	bucketResponses    = []byte("responses")
)

var allBuckets = [][]byte{
	bucketMeta, bucketUsers, bucketUserEmails, bucketAPIKeys, bucketKeyHashes,
	bucketAudit, bucketSettings, bucketProfiles, bucketDownloads, bucketLockouts,
	bucketInvites, bucketInviteHashes,
	bucketBackends,
	bucketResponses,
	bucketLocalModels,
}

// Store is the open database. Its methods are safe for concurrent use.
type Store struct {
	db          *bolt.DB
	dir         string
	now         func() time.Time
	changes     changeHub   // committed writes of users and settings (changes.go)
	auditWrites groupCommit // audit appends share transactions, in a committer of their own (groupcommit.go)
	reads       readCache   // keys, users and settings every request reads (readcache.go)

	profileReads profileCache // every profile, for the name lookup of each /v1 request (profilecache.go)

	pruneBatch   int // most audit events one prune transaction deletes
	maxResponses int // most stored responses kept
}

// Options tune Open; the zero value is right for the daemon.
type Options struct {
	// LockTimeout bounds the wait for another process's file lock (default 1s).
	LockTimeout time.Duration
	// Now is the clock (tests).
	Now func() time.Time
	// AuditLinger is how long the events of /v1 requests (AppendAsync) wait
	// for others to share their transaction (groupcommit.go): 0 means
	// DefaultAuditLinger, a negative value no wait.
	AuditLinger time.Duration
}

// DefaultAuditLinger is Options.AuditLinger's default: bbolt's own batch delay.
// A request's event reaches the log (and its live stream) that much later; a
// query, Flush or Close does not wait for it.
const DefaultAuditLinger = 10 * time.Millisecond

// Open opens (creating when needed) the database in dir, which it makes 0700, runs
// the migrations, and records this process's pid for a second instance's message.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secure data dir: %w", err)
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := secureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, &LockedError{Path: path, PID: readPID(dir)}
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, dir: dir, now: opts.Now, pruneBatch: defaultPruneBatch, maxResponses: defaultMaxResponses}
	switch {
	case opts.AuditLinger == 0:
		s.auditWrites.linger = DefaultAuditLinger
	case opts.AuditLinger > 0:
		s.auditWrites.linger = opts.AuditLinger
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, pidFileName), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	return s, nil
}

// secureDir takes group and other permissions off everything directly in the data
// dir (database, secret, logs, pid file): bbolt and os.WriteFile only set the mode of
// files they create, so a file made looser by hand or by an older build stayed so.
// Subfolders keep their contents' modes; only the folder itself is closed.
func secureDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("secure data dir: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || info.Mode()&os.ModeSymlink != 0 {
			continue // gone meanwhile, or a link whose target is not ours to change
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(filepath.Join(dir, e.Name()), perm&^0o077); err != nil {
				return fmt.Errorf("secure %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

func readPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, pidFileName))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Close writes the audit events still queued, then closes the database and
// removes the pid file.
func (s *Store) Close() error {
	s.Audit().Flush()
	s.auditWrites.wait()
	os.Remove(filepath.Join(s.dir, pidFileName))
	return s.db.Close()
}

// Path is the database file.
func (s *Store) Path() string { return s.db.Path() }

// Check runs bbolt's consistency check and returns every problem found, joined.
func (s *Store) Check() error {
	// bbolt's check must not overlap a write: the audit events still queued
	// go first.
	s.Audit().Flush()
	s.auditWrites.wait()
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}
