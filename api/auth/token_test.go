package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTokens(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	tk, err := NewTokens(testSecret, c.now)
	if err != nil {
		t.Fatal(err)
	}
	s, issued, err := tk.Issue("u1", 3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tk.Verify(s)
	if err != nil {
		t.Fatal(err)
	}
	if got != issued || got.UserID != "u1" || got.Gen != 3 || got.ID == "" ||
		!got.ExpiresAt.Equal(c.t.Add(TokenTTL)) || !got.IssuedAt.Equal(c.t) {
		t.Fatalf("claims = %+v, issued %+v", got, issued)
	}
	_, second, _ := tk.Issue("u1", 3)
	if second.ID == issued.ID {
		t.Fatal("two tokens share a jti")
	}

	c.t = c.t.Add(TokenTTL + time.Second)
	if _, err := tk.Verify(s); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired token: err = %v, want ErrTokenExpired", err)
	}
}

func TestTokensRefuse(t *testing.T) {
	c := &clock{t: time.Now()}
	tk, _ := NewTokens(testSecret, c.now)
	good, _, _ := tk.Issue("u1", 0)
	other, _ := NewTokens([]byte("another-secret-another-secret-xx"), c.now)
	foreign, _, _ := other.Issue("u1", 0)

	claims := jwt.MapClaims{"sub": "u1", "iat": c.t.Unix(), "exp": c.t.Add(time.Hour).Unix(), "jti": "x"}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(testSecret)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "iat": c.t.Unix(), "jti": "x"}).SignedString(testSecret)
	noSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iat": c.t.Unix(), "exp": c.t.Add(time.Hour).Unix(), "jti": "x"}).SignedString(testSecret)
	future, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "iat": c.t.Add(time.Hour).Unix(), "exp": c.t.Add(2 * time.Hour).Unix(), "jti": "x"}).SignedString(testSecret)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	for name, tok := range map[string]string{
		"empty": "", "garbage": "a.b.c", "other secret": foreign, "alg none": none, "HS512": hs512,
		"no exp": noExp, "no sub": noSub, "issued in the future": future, "tampered payload": tampered,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tk.Verify(tok); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("err = %v, want ErrTokenInvalid", err)
			}
		})
	}
	if _, err := NewTokens([]byte("short"), nil); err == nil {
		t.Fatal("short secret accepted")
	}
}
