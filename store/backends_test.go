package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestBackendKeyEncryptedAtRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "sk-test-abcdefghijklmnop-WXYZ"
	key := secret
	b, err := st.Backends().Put(store.Backend{Name: "gpu", Kind: "openai", BaseURL: "http://10.0.0.2:8000/v1"}, &key)
	if err != nil {
		t.Fatal(err)
	}
	if b.KeyLast4 != "WXYZ" {
		t.Errorf("last4 = %q", b.KeyLast4)
	}
	// Updating without a key keeps the stored one.
	b.BaseURL = "http://10.0.0.3:8000/v1"
	if b, err = st.Backends().Put(b, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Backends().APIKey(b); err != nil || got != secret {
		t.Fatalf("APIKey = %q, %v", got, err)
	}
	if _, err := st.Backends().Put(store.Backend{Name: "gpu", Kind: "openai"}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name: err = %v, want ErrConflict", err)
	}
	info, err := os.Stat(filepath.Join(dir, store.BackendKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte("abcdefghijklmnop")) {
		t.Fatal("the database holds the API key in clear")
	}

	// Reopened, the key still decrypts; a record moved to another id does not.
	st = storetest.OpenDir(t, dir, store.Options{})
	got, err := st.Backends().Get(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := st.Backends().APIKey(got); err != nil || k != secret {
		t.Fatalf("after reopen: APIKey = %q, %v", k, err)
	}
	got.ID = "other"
	if _, err := st.Backends().APIKey(got); err == nil {
		t.Error("a sealed key opened under another backend's id")
	}
	empty := ""
	if got, err = st.Backends().Put(b, &empty); err != nil || got.Cipher != nil || got.KeyLast4 != "" {
		t.Errorf("removing the key: %+v, %v", got, err)
	}
	if err := st.Backends().Delete(b.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.Backends().Delete(b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
