package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackendKeyFile holds the AES-256 key that encrypts backends' API keys at rest.
// It sits beside the database, mode 0600, so a copy of the database alone (a
// backup, an export) does not give away the keys of the clouds it routes to.
const BackendKeyFile = "backends.key"

var bucketBackends = []byte("backends")

// Backend is another inference server that requests may be routed to. Its API key
// is never stored in clear: Cipher is the AES-GCM sealed key (nonce first), KeyLast4
// the only part ever shown again.
type Backend struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // unique; what routing rules and errors name
	Kind      string    `json:"kind"` // "openai" or "anthropic"
	BaseURL   string    `json:"base_url"`
	Cipher    []byte    `json:"key_cipher,omitempty"`
	KeyLast4  string    `json:"key_last4,omitempty"`
	TimeoutS  int       `json:"timeout_s,omitempty"` // connect and first-byte timeout; 0 = the router's default
	Models    []string  `json:"models,omitempty"`    // served models; empty with Discover = ask GET /models
	Discover  bool      `json:"discover,omitempty"`
	Users     []string  `json:"users,omitempty"` // user ids and API key ids allowed to use it; empty: everyone
	HTTP2     string    `json:"http2,omitempty"` // "auto" (or ""), "on" or "off": HTTP/2 to the backend
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Backends is the backend registry API.
type Backends struct{ s *Store }

// Backends returns the backend registry API.
func (s *Store) Backends() Backends { return Backends{s} }

// List returns every backend, by name.
func (bs Backends) List() ([]Backend, error) {
	var out []Backend
	err := bs.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBackends).ForEach(func(k, _ []byte) error {
			var b Backend
			if err := getJSON(tx.Bucket(bucketBackends), k, &b); err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the backend with this id.
func (bs Backends) Get(id string) (Backend, error) {
	var b Backend
	err := bs.s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketBackends), []byte(id), &b)
	})
	return b, err
}

// Put creates or replaces b. apiKey, when not nil, replaces the stored key ("" removes
// it); nil keeps the key b had. Names are unique: ErrConflict otherwise.
func (bs Backends) Put(b Backend, apiKey *string) (Backend, error) {
	if b.ID == "" {
		b.ID = newID()
	}
	now := bs.s.now().UTC()
	if apiKey != nil {
		b.Cipher, b.KeyLast4 = nil, ""
		if *apiKey != "" {
			sealed, err := bs.seal(b.ID, []byte(*apiKey))
			if err != nil {
				return Backend{}, err
			}
			b.Cipher, b.KeyLast4 = sealed, last4(*apiKey)
		}
	}
	err := bs.s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBackends)
		var old Backend
		switch err := getJSON(bk, []byte(b.ID), &old); {
		case err == nil:
			b.CreatedAt = old.CreatedAt
			if apiKey == nil {
				b.Cipher, b.KeyLast4 = old.Cipher, old.KeyLast4
			}
		case errors.Is(err, ErrNotFound):
			b.CreatedAt = now
		default:
			return err
		}
		err := bk.ForEach(func(k, v []byte) error {
			var o Backend
			if err := getJSON(bk, k, &o); err != nil {
				return err
			}
			if o.ID != b.ID && o.Name == b.Name {
				return fmt.Errorf("backend %q: %w", b.Name, ErrConflict)
			}
			return nil
		})
		if err != nil {
			return err
		}
		b.UpdatedAt = now
		return putJSON(bk, []byte(b.ID), b)
	})
	return b, err
}

// Delete removes the backend; ErrNotFound when there is none.
func (bs Backends) Delete(id string) error {
	return bs.s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBackends)
		if bk.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return bk.Delete([]byte(id))
	})
}

// APIKey decrypts b's API key; "" when it has none.
func (bs Backends) APIKey(b Backend) (string, error) {
	if len(b.Cipher) == 0 {
		return "", nil
	}
	aead, err := bs.s.backendCipher()
	if err != nil {
		return "", err
	}
	n := aead.NonceSize()
	if len(b.Cipher) < n {
		return "", fmt.Errorf("backend %s: sealed key too short", b.Name)
	}
	plain, err := aead.Open(nil, b.Cipher[:n], b.Cipher[n:], []byte(b.ID))
	if err != nil {
		return "", fmt.Errorf("backend %s: decrypt key (was %s replaced?): %w", b.Name, BackendKeyFile, err)
	}
	return string(plain), nil
}

// seal binds the sealed key to the backend's id, so a key cannot be moved to
// another backend record by editing the database.
func (bs Backends) seal(id string, plain []byte) ([]byte, error) {
	aead, err := bs.s.backendCipher()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, []byte(id)), nil
}

func last4(s string) string {
	if len(s) <= 4 {
		return ""
	}
	return s[len(s)-4:]
}

// keyFileMu serialises creating the key file, so two first writers agree on one key.
var keyFileMu sync.Mutex

// backendCipher reads the key file, creating it (0600, 32 random bytes) on first use.
func (s *Store) backendCipher() (cipher.AEAD, error) {
	keyFileMu.Lock()
	defer keyFileMu.Unlock()
	path := filepath.Join(s.dir, BackendKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		f, cerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if cerr != nil {
			return nil, fmt.Errorf("create %s: %w", path, cerr)
		}
		_, werr := f.Write(key)
		if serr := f.Sync(); werr == nil {
			werr = serr
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("write %s: %w", path, werr)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%s: want 32 bytes, have %d", path, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
