package auth

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Throttle is sign-in throttling that a stranger cannot turn against the account's
// owner ("smart lockout", as Keycloak and Okta do it). Three counters:
//
//   - per (account, client) pair: after PairFree failures, each further one makes the
//     pair wait PairBase, then twice as long, up to PairMax. This is what slows a
//     guesser down, and it only ever slows that guesser's client.
//   - per account, over Window: once AccountMax failures came from anywhere, clients
//     the account does not know are refused until the window ends; a client that
//     signed in to the account before (a known device) is not, so the owner gets in.
//   - per client address, over Window: ClientMax failures on any accounts refuse that
//     address, again only for clients not known to the account being tried.
//
// What is a client? The daemon listens on loopback, where every process and browser
// of every local user is 127.0.0.1 (and any 127.x.y.z it binds to), so the address
// cannot tell the owner from the attacker. The server therefore gives a device id in
// a signed cookie after a successful sign-in (DeviceCookie) and names the client by
// it when the request brings a valid one for that account; an attacker's process
// cannot read another user's browser cookies nor forge one without the daemon's
// secret. Requests without one are named by address, with all of loopback folded into
// one name (ClientAddr), so binding 127.0.0.2 buys no fresh budget.
//
// The state survives a restart through LockStore, so a restart is not a way to reset
// a lockout.
type Throttle struct {
	cfg   ThrottleConfig
	store LockStore

	mu    sync.Mutex      // guards locks
	locks map[string]Lock // by lockKey
}

// Lock is the state of one counter: failures since First, and the time before which
// the counter refuses.
type Lock struct {
	Failures int       `json:"failures"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Until    time.Time `json:"until"`
}

// LockStore keeps Throttle's state durable. Keys are opaque strings.
type LockStore interface {
	Load() (map[string]Lock, error)
	Save(key string, l Lock) error
	Delete(key string) error
}

// ThrottleConfig configures a Throttle; zero fields take the defaults shown.
type ThrottleConfig struct {
	PairFree   int           // failures per pair without delay (3)
	PairBase   time.Duration // first delay after PairFree (1 s), doubling
	PairMax    time.Duration // longest pair delay (15 min)
	AccountMax int           // failures per account in Window before unknown clients wait (20)
	ClientMax  int           // failures per unknown client address in Window (20)
	Window     time.Duration // (15 min); also how long an idle pair keeps its count
	MaxKeys    int           // memory bound (100k); expired entries go first
	Now        func() time.Time
}

// Refusal says why and how long a sign-in must wait.
type Refusal struct {
	Scope      string // "pair", "account" or "client"
	RetryAfter time.Duration
}

// LockEvent reports a counter that has just started refusing, for the audit log.
type LockEvent struct {
	Scope   string
	Account string
	Client  string
	Until   time.Time
}

// NewThrottle returns a throttle whose state is loaded from st (nil: memory only).
func NewThrottle(c ThrottleConfig, st LockStore) (*Throttle, error) {
	if c.PairFree <= 0 {
		c.PairFree = 3
	}
	if c.PairBase <= 0 {
		c.PairBase = time.Second
	}
	if c.PairMax <= 0 {
		c.PairMax = 15 * time.Minute
	}
	if c.AccountMax <= 0 {
		c.AccountMax = 20
	}
	if c.ClientMax <= 0 {
		c.ClientMax = 20
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 100_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	t := &Throttle{cfg: c, store: st, locks: map[string]Lock{}}
	if st != nil {
		locks, err := st.Load()
		if err != nil {
			return nil, fmt.Errorf("load sign-in lockouts: %w", err)
		}
		for k, l := range locks {
			t.locks[k] = l
		}
	}
	return t, nil
}

// ClientAddr names a client by address: loopback is one client whatever 127.x.y.z
// or ::1 it comes from.
func ClientAddr(ip string, loopback bool) string {
	if loopback {
		return "addr:loopback"
	}
	return "addr:" + ip
}

// ClientDevice names a client by the device id of its cookie.
func ClientDevice(id string) string { return "device:" + id }

// The key separator is a byte no e-mail or client name contains.
const keySep = "\x00"

func pairKey(account, client string) string { return "pair" + keySep + account + keySep + client }
func accountKey(account string) string      { return "account" + keySep + account }
func clientKey(client string) string        { return "client" + keySep + client }

// Check reports whether client may try to sign in to account now. known says the
// client brought a valid device cookie for this account.
func (t *Throttle) Check(account, client string, known bool) (Refusal, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Now()
	if l, ok := t.liveLocked(pairKey(account, client), now); ok && now.Before(l.Until) {
		return Refusal{Scope: "pair", RetryAfter: l.Until.Sub(now)}, false
	}
	if known {
		return Refusal{}, true
	}
	if l, ok := t.liveLocked(accountKey(account), now); ok && now.Before(l.Until) {
		return Refusal{Scope: "account", RetryAfter: l.Until.Sub(now)}, false
	}
	if l, ok := t.liveLocked(clientKey(client), now); ok && now.Before(l.Until) {
		return Refusal{Scope: "client", RetryAfter: l.Until.Sub(now)}, false
	}
	return Refusal{}, true
}

// Fail records a failed sign-in and returns the counters it made start refusing.
func (t *Throttle) Fail(account, client string, known bool) ([]LockEvent, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Now()
	var events []LockEvent
	var errs []error

	pk := pairKey(account, client)
	p := t.windowedLocked(pk, now)
	p.Failures++
	if p.Failures > t.cfg.PairFree {
		p.Until = now.Add(t.pairDelay(p.Failures - t.cfg.PairFree))
		if p.Failures == t.cfg.PairFree+1 {
			events = append(events, LockEvent{Scope: "pair", Account: account, Client: client, Until: p.Until})
		}
	}
	errs = append(errs, t.putLocked(pk, p, now))

	ak := accountKey(account)
	a := t.windowedLocked(ak, now)
	a.Failures++
	if a.Failures == t.cfg.AccountMax {
		a.Until = a.First.Add(t.cfg.Window)
		events = append(events, LockEvent{Scope: "account", Account: account, Until: a.Until})
	}
	errs = append(errs, t.putLocked(ak, a, now))

	if !known {
		ck := clientKey(client)
		c := t.windowedLocked(ck, now)
		c.Failures++
		if c.Failures == t.cfg.ClientMax {
			c.Until = c.First.Add(t.cfg.Window)
			events = append(events, LockEvent{Scope: "client", Client: client, Until: c.Until})
		}
		errs = append(errs, t.putLocked(ck, c, now))
	}
	return events, firstErr(errs)
}

// Succeed forgets the pair's failures after a successful sign-in. The account's and
// the address's counts stay: the owner signing in from one client says nothing about
// the guesses that came from others.
func (t *Throttle) Succeed(account, client string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.deleteLocked(pairKey(account, client))
}

// Clear forgets every counter of account (its pairs and its account count) and
// returns how many there were: an admin's "unlock".
func (t *Throttle) Clear(account string) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	var errs []error
	for k := range t.locks {
		if k == accountKey(account) || strings.HasPrefix(k, "pair"+keySep+account+keySep) {
			errs = append(errs, t.deleteLocked(k))
			n++
		}
	}
	return n, firstErr(errs)
}

// ActiveLock is a counter that refuses now.
type ActiveLock struct {
	Scope    string    `json:"scope"`
	Account  string    `json:"account,omitempty"`
	Client   string    `json:"client,omitempty"`
	Failures int       `json:"failures"`
	Until    time.Time `json:"until"`
}

// Active lists the counters refusing now, soonest to end first.
func (t *Throttle) Active() []ActiveLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Now()
	var out []ActiveLock
	for k, l := range t.locks {
		if !now.Before(l.Until) {
			continue
		}
		parts := strings.Split(k, keySep)
		a := ActiveLock{Scope: parts[0], Failures: l.Failures, Until: l.Until}
		switch parts[0] {
		case "pair":
			a.Account, a.Client = parts[1], parts[2]
		case "account":
			a.Account = parts[1]
		case "client":
			a.Client = parts[1]
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	return out
}

func (t *Throttle) pairDelay(over int) time.Duration {
	d := t.cfg.PairBase
	for i := 1; i < over && d < t.cfg.PairMax; i++ {
		d *= 2
	}
	return min(d, t.cfg.PairMax)
}

// liveLocked returns the counter under k unless it has expired: its refusal is over
// and it has been idle for a Window (pairs) or its Window is over (the others).
func (t *Throttle) liveLocked(k string, now time.Time) (Lock, bool) {
	l, ok := t.locks[k]
	if !ok || t.expired(k, l, now) {
		return Lock{}, false
	}
	return l, true
}

func (t *Throttle) expired(k string, l Lock, now time.Time) bool {
	if now.Before(l.Until) {
		return false
	}
	if strings.HasPrefix(k, "pair"+keySep) {
		return !now.Before(l.Last.Add(t.cfg.Window))
	}
	return !now.Before(l.First.Add(t.cfg.Window))
}

// windowedLocked returns the live counter under k, or a fresh one starting now.
func (t *Throttle) windowedLocked(k string, now time.Time) Lock {
	if l, ok := t.liveLocked(k, now); ok {
		return l
	}
	return Lock{First: now}
}

func (t *Throttle) putLocked(k string, l Lock, now time.Time) error {
	l.Last = now
	if _, ok := t.locks[k]; !ok && len(t.locks) >= t.cfg.MaxKeys {
		t.sweepLocked(now)
	}
	t.locks[k] = l
	if t.store == nil {
		return nil
	}
	return t.store.Save(k, l)
}

func (t *Throttle) deleteLocked(k string) error {
	if _, ok := t.locks[k]; !ok {
		return nil
	}
	delete(t.locks, k)
	if t.store == nil {
		return nil
	}
	return t.store.Delete(k)
}

// sweepLocked drops expired counters, then, if a flood of distinct keys still fills
// the map, those that refuse for the shortest time: memory stays bounded and the
// longest lockouts (the ones that matter) are the last to go.
func (t *Throttle) sweepLocked(now time.Time) {
	for k, l := range t.locks {
		if t.expired(k, l, now) {
			t.deleteLocked(k)
		}
	}
	if len(t.locks) < t.cfg.MaxKeys {
		return
	}
	keys := make([]string, 0, len(t.locks))
	for k := range t.locks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t.locks[keys[i]].Until.Before(t.locks[keys[j]].Until) })
	for _, k := range keys[:len(keys)-t.cfg.MaxKeys+1] {
		t.deleteLocked(k)
	}
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
