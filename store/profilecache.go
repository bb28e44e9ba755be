package store

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// profileCache holds every profile, decoded once. Each /v1 request resolves
// its model name as a profile (by name, then by id) before it starts; without
// this each did two bbolt read transactions that decoded every profile, the
// largest store cost a backend paid per routed request (issue #24).
//
// It follows readCache's rules with a generation of its own, so a user or key
// write does not drop it: every committed profile write empties it in the
// transaction's OnCommit, before the write returns, and a reader files the view
// it built only if no profile write committed since it noted the generation.
// So every transaction that writes the profiles bucket calls
// invalidateProfilesOnCommit: a new writer that does not leaves the view stale.
// (The schema migrations write profiles too, but inside Open, before any reader.)
type profileCache struct {
	mu   sync.RWMutex
	gen  uint64       // guarded by mu; moves on at every invalidation
	view *profileView // guarded by mu; nil until read after the last write
}

// profileView is every profile at one commit. It is never changed once built:
// readers share it without a lock and hand out copies (Profile.clone).
type profileView struct {
	list   []Profile      // sorted by name, as List returns them
	byID   map[string]int // index into list
	byName map[string]int // by foldKey of the name: the first in list order
}

// current returns the view, or nil and the generation a reader must note
// before it reads the bucket.
func (c *profileCache) current() (*profileView, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.view, c.gen
}

func (c *profileCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.view = nil
}

func (c *profileCache) fill(gen uint64, v *profileView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.view = v
	}
}

// invalidateProfilesOnCommit empties the profile view when tx commits.
func (s *Store) invalidateProfilesOnCommit(tx *bolt.Tx) { tx.OnCommit(s.profileReads.invalidate) }

// view returns the profiles as last committed, reading the bucket when a write
// emptied the cache.
func (ps Profiles) view() (*profileView, error) {
	v, gen := ps.s.profileReads.current()
	if v != nil {
		return v, nil
	}
	var list []Profile
	err := ps.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProfiles)
		return b.ForEach(func(k, _ []byte) error {
			var p Profile
			if err := getJSON(b, k, &p); err != nil {
				return err
			}
			list = append(list, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	sort.Slice(list, func(i, j int) bool { return strings.ToLower(list[i].Name) < strings.ToLower(list[j].Name) })
	v = &profileView{list: list, byID: make(map[string]int, len(list)), byName: make(map[string]int, len(list))}
	for i, p := range list {
		v.byID[p.ID] = i
		k := string(appendFoldKey(nil, p.Name))
		if _, dup := v.byName[k]; !dup {
			v.byName[k] = i
		}
	}
	ps.s.profileReads.fill(gen, v)
	return v, nil
}

// lookupName returns the profile named name under strings.EqualFold.
func (v *profileView) lookupName(name string) (Profile, bool) {
	var buf [128]byte
	i, ok := v.byName[string(appendFoldKey(buf[:0], name))] // a lookup by string(bytes) does not allocate
	if !ok {
		return Profile{}, false
	}
	return v.list[i].clone(), true
}

func (v *profileView) lookupID(id string) (Profile, bool) {
	i, ok := v.byID[id]
	if !ok {
		return Profile{}, false
	}
	return v.list[i].clone(), true
}

// clone copies p with pointer fields of its own, so a caller that changes
// what they point at cannot change the cached view.
func (p Profile) clone() Profile {
	p.Temperature = clonePtr(p.Temperature)
	p.TopP = clonePtr(p.TopP)
	p.MaxTokens = clonePtr(p.MaxTokens)
	p.TTLSeconds = clonePtr(p.TTLSeconds)
	return p
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// appendFoldKey appends to dst a key that two names share exactly when
// strings.EqualFold says they are equal, so a case-insensitive lookup is one
// map read. EqualFold compares rune by rune (an invalid byte reads as
// utf8.RuneError) and matches two runes when one is reached from the other by
// unicode.SimpleFold, whose cycles are the classes of case-equivalent runes; a
// class's key is its smallest rune, written in lower case when that is an ASCII
// letter so that a lower-case ASCII name is its own key.
func appendFoldKey(dst []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			ascii = false
			break
		}
	}
	if ascii {
		return append(dst, s...)
	}
	for _, r := range s {
		dst = utf8.AppendRune(dst, foldRune(r))
	}
	return dst
}

// foldRune is the key rune of r's case class (see appendFoldKey).
func foldRune(r rune) rune {
	low := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		low = min(low, f)
	}
	if 'A' <= low && low <= 'Z' {
		low += 'a' - 'A'
	}
	return low
}
