package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSecret(t *testing.T) {
	cases := []struct {
		secret string
		ok     bool
	}{
		{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true},
		{"k3J9-x7Qp_Lm2Zt8Rv4Wn6Ys1Hb5Gc0Df", true},
		{"short", false},
		{"changeme", false},
		{"changemechangemechangemechangeme", false},
		{"your-secret-key-goes-here-please!", false},
		{"CHANGE-ME-CHANGE-ME-CHANGE-ME-123", false},
		{"my-super-secret-jwt-token-1234567", false},
		{"abababababababababababababababab12", false}, // 4 distinct characters
	}
	for _, tc := range cases {
		t.Run(tc.secret, func(t *testing.T) {
			err := CheckSecret(tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckSecret = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	s1, gen, err := LoadSecret(dir, "")
	if err != nil || !gen || len(s1) < MinSecretLen {
		t.Fatalf("first load = %q, %v, %v", s1, gen, err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode = %v, %v; want 0600", st.Mode(), err)
	}
	s2, gen, err := LoadSecret(dir, "")
	if err != nil || gen || string(s2) != string(s1) {
		t.Fatalf("second load = %q (generated %v), %v; want the kept %q", s2, gen, err, s1)
	}

	env := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	s3, _, err := LoadSecret(dir, env)
	if err != nil || string(s3) != env {
		t.Fatalf("env secret = %q, %v", s3, err)
	}
	_, _, err = LoadSecret(dir, "changeme")
	if err == nil || !strings.Contains(err.Error(), "MLX_MANAGER_JWT_SECRET") {
		t.Fatalf("placeholder env secret: err = %v, want a message naming the variable", err)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, SecretFileName), []byte("tiny\n"), 0o644)
	if _, _, err := LoadSecret(bad, ""); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Fatalf("short kept secret: err = %v", err)
	}
}
