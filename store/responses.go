package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Retention of stored responses (the Responses API's store:true). OpenAI keeps
// them 30 days; a local daemon also caps their number so that an agent looping
// over previous_response_id cannot grow the database without bound.
const ResponseRetention = 30 * 24 * time.Hour

// defaultMaxResponses caps how many responses are kept, all users together
// (Store.maxResponses; tests lower it rather than write thousands).
const defaultMaxResponses = 2000

// StoredResponse is one answer of the Responses API kept for GET /v1/responses/{id}
// and for previous_response_id. Its documents belong to api/openai; the store only
// keeps them with their owner.
type StoredResponse struct {
	ID       string          `json:"id"`
	OwnerID  string          `json:"owner_id"` // the user who created it; "" for unauthenticated loopback requests
	Created  time.Time       `json:"created"`
	Response json.RawMessage `json:"response"` // the response object as the API returned it
	History  json.RawMessage `json:"history"`  // the conversation up to and including its output
}

// Responses is the collection of stored responses. Keys start with the creation
// time, so the oldest come first and retention trims from the front.
type Responses struct{ s *Store }

// Responses returns the stored responses.
func (s *Store) Responses() Responses { return Responses{s} }

// NewResponseID is a fresh id, "resp_" and hex: a time prefix (key order is age
// order) and 16 random bytes.
func (s *Store) NewResponseID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("resp_%016x%s", s.now().UnixNano(), hex.EncodeToString(b[:]))
}

// Put stores r, then drops the responses past the retention limits.
func (rs Responses) Put(r StoredResponse) error {
	if r.ID == "" {
		return fmt.Errorf("put response: empty id")
	}
	if r.Created.IsZero() {
		r.Created = rs.s.now()
	}
	err := rs.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketResponses)
		if err := putJSON(b, []byte(r.ID), r); err != nil {
			return err
		}
		return trimResponses(b, rs.s.now().Add(-ResponseRetention), rs.s.maxResponses)
	})
	if err != nil {
		return fmt.Errorf("put response %s: %w", r.ID, err)
	}
	return nil
}

// trimResponses deletes from the oldest key on while a response is older than
// cutoff or there are more than limit.
func trimResponses(b *bolt.Bucket, cutoff time.Time, limit int) error {
	n := countKeys(b) // Stats() misses this transaction's own writes
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		var r StoredResponse
		if err := json.Unmarshal(v, &r); err == nil && n <= limit && !r.Created.Before(cutoff) {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	return nil
}

// Get returns the response with this id, ErrNotFound when it does not exist or
// has expired.
func (rs Responses) Get(id string) (StoredResponse, error) {
	var r StoredResponse
	err := rs.s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketResponses), []byte(id), &r)
	})
	if err != nil {
		return StoredResponse{}, err
	}
	if r.Created.Before(rs.s.now().Add(-ResponseRetention)) {
		return StoredResponse{}, ErrNotFound
	}
	return r, nil
}

// Delete removes the response; ErrNotFound when there is none.
func (rs Responses) Delete(id string) error {
	return rs.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketResponses)
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(id))
	})
}

// Count is how many responses are stored, expired ones not yet trimmed included.
func (rs Responses) Count() (int, error) {
	var n int
	err := rs.s.db.View(func(tx *bolt.Tx) error {
		n = countKeys(tx.Bucket(bucketResponses))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count responses: %w", err)
	}
	return n, nil
}

func countKeys(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
