package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SecretFileName is where a generated JWT secret is kept in the data dir.
const SecretFileName = "jwt-secret"

// placeholders are secrets copied from examples and tutorials. Anyone can forge
// tokens for a daemon that uses one, so they are refused however they are padded.
var placeholders = []string{
	"changeme", "changethis", "replaceme", "yoursecret", "yourjwtsecret", "mysecret",
	"supersecret", "secretkey", "jwtsecret", "placeholder", "example", "default",
	"password", "insecure", "notasecret", "topsecret", "xxxxxxxx",
}

// CheckSecret refuses a JWT secret that is short or a known placeholder.
func CheckSecret(secret string) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("it is %d bytes; use at least %d random bytes (e.g. `openssl rand -hex 32`)", len(secret), MinSecretLen)
	}
	var norm strings.Builder
	distinct := map[rune]bool{}
	for _, r := range strings.ToLower(secret) {
		distinct[r] = true
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			norm.WriteRune(r)
		}
	}
	for _, p := range placeholders {
		if strings.Contains(norm.String(), p) {
			return fmt.Errorf("it contains the placeholder %q; use random bytes (e.g. `openssl rand -hex 32`)", p)
		}
	}
	if len(distinct) < 8 {
		return errors.New("it uses fewer than 8 distinct characters; use random bytes (e.g. `openssl rand -hex 32`)")
	}
	return nil
}

// LoadSecret returns the JWT secret: fromEnv when set (after CheckSecret), else the
// one kept in dataDir/jwt-secret, else a new random one written there with mode
// 0600. The data dir must already be locked by this process (store.Open does it).
func LoadSecret(dataDir, fromEnv string) (secret []byte, generated bool, err error) {
	if fromEnv != "" {
		if err := CheckSecret(fromEnv); err != nil {
			return nil, false, fmt.Errorf("MLX_MANAGER_JWT_SECRET refused: %w; or unset it to let mlx-manager generate and keep one", err)
		}
		return []byte(fromEnv), false, nil
	}
	path := filepath.Join(dataDir, SecretFileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if len(s) < MinSecretLen {
			return nil, false, fmt.Errorf("%s holds a %d-byte secret, want at least %d: delete the file to generate a new one (everyone signs in again)", path, len(s), MinSecretLen)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, false, fmt.Errorf("secure %s: %w", path, err)
		}
		return []byte(s), false, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("read jwt secret: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, fmt.Errorf("generate jwt secret: %w", err)
	}
	s := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(s+"\n")); err != nil {
		return nil, false, fmt.Errorf("keep jwt secret: %w", err)
	}
	return []byte(s), true, nil
}

// writeFileAtomic writes via a synced temp file and a rename, so a crash leaves
// either no secret or the whole one, never a truncated one that would be reused.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".jwt-secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
