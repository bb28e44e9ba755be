package store

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// readCache keeps the records every authenticated request reads: an API key by
// its hash with its owner, a user by id, a settings document's JSON. Without it
// each /v1 request decoded two or three JSON records in bbolt read transactions
// before it could start, a tenth of what the router added to the first byte of
// 32 concurrent streams (issue #24).
//
// Every committed write of a user, an API key or a settings document empties
// it, in the transaction's OnCommit, so before the write returns: a revoked
// key, a disabled user or a changed setting is what the next request sees. A
// reader notes the generation before its read transaction begins and files what
// it read only if no write committed meanwhile, so a value read before a commit
// is never kept past it. Only records found are kept: API key hashes and user
// ids come from clients, and a miss must not cost memory.
//
// So every transaction that writes the users, API keys or settings buckets
// calls onCommit (users, settings) or invalidateOnCommit (API keys): a new
// writer that does neither leaves the cache stale.
type readCache struct {
	mu       sync.RWMutex
	gen      uint64                 // guarded by mu; moves on at every invalidation
	keys     map[[32]byte]keyEntry  // guarded by mu; by key hash
	users    map[string]User        // guarded by mu; by id
	settings map[string]settingItem // guarded by mu; by document name
}

type keyEntry struct {
	key   APIKey
	owner User
}

// settingItem is a settings document as stored; nil when it was never set.
type settingItem struct{ data []byte }

// generation is what a reader notes before its read transaction.
func (c *readCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *readCache) key(hash [32]byte) (keyEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.keys[hash]
	return e, ok
}

func (c *readCache) user(id string) (User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.users[id]
	return u, ok
}

func (c *readCache) setting(name string) (settingItem, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.settings[name]
	return s, ok
}

func (c *readCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.keys, c.users, c.settings = nil, nil, nil
}

// invalidateOnCommit empties the read cache when tx commits.
func (s *Store) invalidateOnCommit(tx *bolt.Tx) { tx.OnCommit(s.reads.invalidate) }

// fillKey, fillUser and fillSetting file what a reader read under generation
// gen, unless a write committed since.
func (c *readCache) fillKey(gen uint64, hash [32]byte, e keyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.keys == nil {
		c.keys = map[[32]byte]keyEntry{}
	}
	c.keys[hash] = e
}

func (c *readCache) fillUser(gen uint64, u User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.users == nil {
		c.users = map[string]User{}
	}
	c.users[u.ID] = u
}

func (c *readCache) fillSetting(gen uint64, name string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.settings == nil {
		c.settings = map[string]settingItem{}
	}
	c.settings[name] = settingItem{data: data}
}
