package store

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// ChangeTopic says what kind of record a Change is about.
type ChangeTopic string

// The topics the store publishes: the ones a screen shows live (the users page,
// the admin's pending badge, settings forms open in another tab).
const (
	ChangeUsers    ChangeTopic = "users"    // an account was created, changed or deleted
	ChangeSettings ChangeTopic = "settings" // a settings document was written
)

// Change is one committed write. ID is the user id or the settings document's
// name. Lost is set on the first change a slow subscriber receives after some
// were dropped for it: it should re-read what it shows.
type Change struct {
	Topic ChangeTopic
	ID    string
	Lost  bool
}

// changeBuffer is how many changes a subscriber may fall behind before it loses
// some; writes never wait for readers.
const changeBuffer = 64

type changeSub struct {
	ch   chan Change
	lost bool
}

// changeHub fans committed writes out to subscribers.
type changeHub struct {
	mu   sync.Mutex
	subs map[*changeSub]struct{} // guarded by mu
}

// Changes follows the store's committed writes of users and settings until
// cancel, so pages and the tray update without polling. The channel is closed
// by cancel.
func (s *Store) Changes() (<-chan Change, func()) {
	sub := &changeSub{ch: make(chan Change, changeBuffer)}
	h := &s.changes
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*changeSub]struct{}{}
	}
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, sub)
			h.mu.Unlock()
			close(sub.ch)
		})
	}
}

// publish sends c to every subscriber without blocking: one whose buffer is
// full loses it and is told so with its next change.
func (s *Store) publish(c Change) {
	h := &s.changes
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		send := c
		send.Lost = sub.lost
		select {
		case sub.ch <- send:
			sub.lost = false
		default:
			sub.lost = true
		}
	}
}

// onCommit publishes a change once tx commits; a rolled-back write publishes
// nothing.
func (s *Store) onCommit(tx *bolt.Tx, topic ChangeTopic, id string) {
	s.invalidateOnCommit(tx) // users and settings are what the read cache holds
	tx.OnCommit(func() { s.publish(Change{Topic: topic, ID: id}) })
}
