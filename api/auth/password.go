package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   uint32
	KeyLen    uint32
}

// DefaultParams are OWASP's recommendation for Argon2id: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestParams are cheap enough for tests that register and log in many times. Never
// use them outside tests: they make offline guessing fast.
var TestParams = Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrBadHash means a stored password hash could not be parsed.
var ErrBadHash = errors.New("malformed password hash")

var b64 = base64.RawStdEncoding

// Hasher hashes and verifies passwords. Each Argon2id run takes MemoryKiB of memory,
// so at most one run per CPU happens at a time: a burst of logins queues instead of
// exhausting memory. Hashing new passwords (registration, resets) may hold all but
// one of those slots: a flood of registrations cannot starve sign-ins (issue #27
// measured an admin's login going from 0.06 s to 5.4 s under one).
type Hasher struct {
	params  Params
	sem     chan struct{} // one token per Argon2 run in progress
	hashSem chan struct{} // one token per Hash run waiting or in progress; cap(sem)-1
	dummy   string        // a hash to verify against when the account does not exist
}

// NewHasher returns a hasher that hashes with p.
func NewHasher(p Params) (*Hasher, error) {
	runs := max(runtime.NumCPU(), 2) // at least one slot for hashing, one kept for sign-ins
	h := &Hasher{params: p, sem: make(chan struct{}, runs), hashSem: make(chan struct{}, runs-1)}
	// The dummy needs the same cost parameters, not a real hash: random salt and key
	// bytes make Verify do the full Argon2 work, without running it (and touching
	// MemoryKiB of memory) at every start.
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("password salt: %w", err)
	}
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	h.dummy = phc(p, salt, key)
	return h, nil
}

func phc(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acquireHash takes a hashing slot, then a run slot: at most cap(hashSem) runs are
// hashes, so one run slot is always left for Verify.
func (h *Hasher) acquireHash(ctx context.Context) error {
	if err := acquire(ctx, h.hashSem); err != nil {
		return err
	}
	if err := acquire(ctx, h.sem); err != nil {
		<-h.hashSem
		return err
	}
	return nil
}

func (h *Hasher) releaseHash() {
	<-h.sem
	<-h.hashSem
}

// Hash returns the PHC string $argon2id$v=19$m=…,t=…,p=…$salt$hash for password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	if err := h.acquireHash(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	h.releaseHash()
	return phc(p, salt, key), nil
}

// Verify reports whether password matches the PHC string encoded, using the
// parameters recorded in it (so raising the defaults keeps old hashes working).
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := ParsePHC(encoded)
	if err != nil {
		return false, err
	}
	if err := acquire(ctx, h.sem); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	<-h.sem
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the work of Verify against a hash no password matches, so that
// a login for an unknown account takes as long as one with a wrong password.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

// Limits on parameters read from a hash: a corrupted or planted hash must not make
// one login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20
	maxTime      = 16
)

// ParsePHC decodes an Argon2id PHC string into its parameters, salt and key.
func ParsePHC(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: want $argon2id$v=…$m=…,t=…,p=…$salt$key", ErrBadHash)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: version %q", ErrBadHash, parts[2])
	}
	var p Params
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &threads); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, threads) {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	if p.Time < 1 || p.Time > maxTime || threads < 1 || threads > 255 ||
		p.MemoryKiB < 8*threads || p.MemoryKiB > maxMemoryKiB {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range %q", ErrBadHash, parts[3])
	}
	p.Threads = uint8(threads)
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", ErrBadHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: key", ErrBadHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
