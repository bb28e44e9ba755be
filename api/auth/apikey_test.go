package auth

import (
	"net/http"
	"regexp"
	"testing"
)

func TestNewAPIKey(t *testing.T) {
	format := regexp.MustCompile(`^mlxm-[0-9A-Za-z]{43}$`)
	seen := map[string]bool{}
	for range 50 {
		key, hash, display, err := NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(key) || seen[key] {
			t.Fatalf("key %q: bad format or repeated", key)
		}
		seen[key] = true
		if hash != HashAPIKey(key) || display != key[:11] || !IsAPIKey(key) {
			t.Fatalf("hash/display mismatch for %q: %q", key, display)
		}
	}
	if IsAPIKey("eyJhbGciOi.x.y") {
		t.Fatal("a JWT taken for an API key")
	}
}

func TestBearerToken(t *testing.T) {
	cases := map[string]string{
		"Bearer abc":      "abc",
		"bearer abc":      "abc",
		"BEARER   abc  ":  "abc",
		"Basic dXNlcjpw":  "",
		"Bearer":          "",
		"":                "",
		"Token abc":       "",
		" Bearer mlxm-xy": "mlxm-xy",
	}
	for in, want := range cases {
		h := http.Header{}
		h.Set("Authorization", in)
		if got := BearerToken(h); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRandomPassword(t *testing.T) {
	a, err := RandomPassword(20)
	if err != nil || len(a) != 20 || !regexp.MustCompile(`^[0-9A-Za-z]+$`).MatchString(a) {
		t.Fatalf("RandomPassword = %q, %v", a, err)
	}
	if b, _ := RandomPassword(20); a == b {
		t.Fatal("two random passwords are equal")
	}
}
