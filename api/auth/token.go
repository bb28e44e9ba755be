package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenTTL is how long a session token lasts.
const TokenTTL = 7 * 24 * time.Hour

// Token errors callers branch on (to say "expired, sign in again" rather than "invalid").
var (
	ErrTokenInvalid = errors.New("invalid token")
	ErrTokenExpired = errors.New("token expired")
)

// Claims are what a session token says: whose it is, and under which of the user's
// token generations it was issued. A user's generation moves on when they are
// disabled or their password changes, which ends every older token at once.
type Claims struct {
	UserID    string
	Gen       uint64
	ID        string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
}

type jwtClaims struct {
	jwt.RegisteredClaims
	Gen uint64 `json:"gen"`
}

// Tokens issues and verifies HS256 session tokens.
type Tokens struct {
	secret []byte
	now    func() time.Time
}

// MinSecretLen is the shortest HS256 secret accepted: the hash's own output size.
const MinSecretLen = 32

// NewTokens returns a token issuer using secret; now is the clock (nil = time.Now).
func NewTokens(secret []byte, now func() time.Time) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("jwt secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: append([]byte(nil), secret...), now: now}, nil
}

// Issue signs a token for the user at generation gen.
func (t *Tokens) Issue(userID string, gen uint64) (string, Claims, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", Claims{}, fmt.Errorf("token id: %w", err)
	}
	now := t.now()
	c := jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(TokenTTL)),
			ID:        hex.EncodeToString(jti[:]),
		},
		Gen: gen,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign token: %w", err)
	}
	return s, toClaims(c), nil
}

func toClaims(c jwtClaims) Claims {
	out := Claims{UserID: c.Subject, Gen: c.Gen, ID: c.ID}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.UTC()
	}
	if c.ExpiresAt != nil {
		out.ExpiresAt = c.ExpiresAt.UTC()
	}
	return out
}

// Verify checks the signature (HS256 only: "none" and every other algorithm are
// refused), expiry and required claims, and returns the claims.
func (t *Tokens) Verify(token string) (Claims, error) {
	var c jwtClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(t.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, ErrTokenExpired
	case err != nil:
		return Claims{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	case c.Subject == "" || c.ID == "" || c.IssuedAt == nil:
		return Claims{}, fmt.Errorf("%w: missing sub, jti or iat", ErrTokenInvalid)
	}
	return toClaims(c), nil
}
