package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	alice := mustCreate(t, st, "alice@example.com")
	bob := mustCreate(t, st, "bob@example.com")
	ks := st.APIKeys()

	k1, err := ks.Create(alice.ID, "laptop", "mlxm-aaaa", [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	k2, err := ks.Create(alice.ID, "ci", "mlxm-bbbb", [32]byte{2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Create(bob.ID, "bob's", "mlxm-cccc", [32]byte{3}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Create(bob.ID, "dup", "mlxm-dddd", [32]byte{1}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate hash: err = %v, want ErrConflict", err)
	}
	if _, err := ks.Create("nobody", "x", "mlxm-eeee", [32]byte{4}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key for unknown user: err = %v, want ErrNotFound", err)
	}

	list, err := ks.List(alice.ID)
	if err != nil || len(list) != 2 || list[0].ID != k2.ID || list[1].ID != k1.ID {
		t.Fatalf("List(alice) = %+v, %v; want [ci, laptop]", list, err)
	}

	k, u, err := ks.Resolve([32]byte{1})
	if err != nil || k.ID != k1.ID || u.ID != alice.ID {
		t.Fatalf("Resolve = %+v, %+v, %v", k, u, err)
	}
	if _, _, err := ks.Resolve([32]byte{9}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Resolve unknown: err = %v", err)
	}

	used := clock.Now().Add(time.Minute)
	if err := ks.Touch(k1.ID, used); err != nil {
		t.Fatal(err)
	}
	if k, _, _ := ks.Resolve([32]byte{1}); !k.LastUsedAt.Equal(used) {
		t.Fatalf("LastUsedAt = %v, want %v", k.LastUsedAt, used)
	}

	if _, err := ks.Delete(bob.ID, k1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob revoking alice's key: err = %v, want ErrNotFound", err)
	}
	if _, err := ks.Delete(alice.ID, k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.Resolve([32]byte{1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key resolves: %v", err)
	}
	// The hash is free again once revoked.
	if _, err := ks.Create(bob.ID, "reuse", "mlxm-ffff", [32]byte{1}); err != nil {
		t.Fatalf("create after revoke: %v", err)
	}
}
