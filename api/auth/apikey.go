package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"net/http"
	"strings"
)

// APIKeyPrefix starts every API key, so a key is recognisable in a config file or a
// secret scanner and never mistaken for a session token.
const APIKeyPrefix = "mlxm-"

// apiKeyBodyLen is the base62 length of 32 random bytes (log62(2^256) ≈ 42.99).
const apiKeyBodyLen = 43

// NewAPIKey returns a new key (APIKeyPrefix + 32 random bytes in base62), its hash
// for storage and a short prefix to show in listings.
func NewAPIKey() (key string, hash [32]byte, display string, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", hash, "", fmt.Errorf("generate api key: %w", err)
	}
	body := new(big.Int).SetBytes(raw[:]).Text(62)
	key = APIKeyPrefix + strings.Repeat("0", apiKeyBodyLen-len(body)) + body
	return key, HashAPIKey(key), key[:len(APIKeyPrefix)+6], nil
}

// HashAPIKey is the stored form of a key. Keys carry 256 random bits, so SHA-256
// is enough: there is nothing to guess that a slow hash would protect.
func HashAPIKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// IsAPIKey reports whether a bearer credential is an API key rather than a JWT.
func IsAPIKey(s string) bool { return strings.HasPrefix(s, APIKeyPrefix) }

// RandomPassword returns a password of n base62 characters, for an admin's reset.
func RandomPassword(n int) (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	max := big.NewInt(int64(len(alphabet)))
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b), nil
}

// BearerToken returns the credential of an "Authorization: Bearer <x>" header, or "".
func BearerToken(h http.Header) string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

// QueryToken returns the ?token= credential. Only routes a browser must open with
// EventSource or WebSocket, which cannot set headers, may accept it: a URL ends up
// in history and logs far more easily than a header.
func QueryToken(r *http.Request) string { return r.URL.Query().Get("token") }
