package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// Each write that changes what a request's credentials mean is seen by the very
// next read, although the read before it filled the cache.
func TestReadCacheInvalidation(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	mustCreate(t, st, "admin@example.com") // the first account: alice is not the last admin
	alice := mustCreate(t, st, "alice@example.com")
	approved := store.StatusApproved
	if _, err := st.Users().Update(alice.ID, store.UserPatch{Status: &approved}); err != nil {
		t.Fatal(err)
	}
	ks := st.APIKeys()
	hash := [32]byte{7}
	key, err := ks.Create(alice.ID, "laptop", "mlxm-aaaa", hash)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func() (store.APIKey, store.User, error) {
		t.Helper()
		for range 2 { // the second read is the cached one
			if _, _, err := ks.Resolve(hash); err != nil {
				return store.APIKey{}, store.User{}, err
			}
		}
		return ks.Resolve(hash)
	}

	t.Run("user disabled", func(t *testing.T) {
		if _, u, err := resolve(); err != nil || u.Status != store.StatusApproved {
			t.Fatalf("Resolve = %+v, %v; want approved alice", u, err)
		}
		disabled := store.StatusDisabled
		if _, err := st.Users().Update(alice.ID, store.UserPatch{Status: &disabled}); err != nil {
			t.Fatal(err)
		}
		if _, u, err := ks.Resolve(hash); err != nil || u.Status != store.StatusDisabled {
			t.Fatalf("Resolve after disabling = %+v, %v; want disabled alice", u, err)
		}
		if u, err := st.Users().Get(alice.ID); err != nil || u.Status != store.StatusDisabled {
			t.Fatalf("Get after disabling = %+v, %v; want disabled", u, err)
		}
		if _, err := st.Users().Update(alice.ID, store.UserPatch{Status: &approved}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("password reset", func(t *testing.T) {
		before, err := st.Users().Get(alice.ID) // fills the cache
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Users().SetPassword(alice.ID, "$argon2id$new"); err != nil {
			t.Fatal(err)
		}
		if u, err := st.Users().Get(alice.ID); err != nil || u.TokenGen != before.TokenGen+1 {
			t.Fatalf("Get after a password reset: token gen %d, %v; want %d", u.TokenGen, err, before.TokenGen+1)
		}
	})
	t.Run("key touched", func(t *testing.T) {
		if _, _, err := resolve(); err != nil {
			t.Fatal(err)
		}
		at := clock.Now().Add(time.Hour)
		if err := ks.Touch(key.ID, at); err != nil {
			t.Fatal(err)
		}
		if k, _, err := ks.Resolve(hash); err != nil || !k.LastUsedAt.Equal(at.UTC()) {
			t.Fatalf("Resolve after Touch: last used %v, %v; want %v", k.LastUsedAt, err, at)
		}
	})
	t.Run("key revoked", func(t *testing.T) {
		if _, _, err := resolve(); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Delete(alice.ID, key.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ks.Resolve(hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Resolve of a revoked key: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("owner deleted", func(t *testing.T) {
		if _, err := ks.Create(alice.ID, "again", "mlxm-bbbb", hash); err != nil {
			t.Fatal(err)
		}
		if _, _, err := resolve(); err != nil {
			t.Fatal(err)
		}
		if err := st.Users().Delete(alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ks.Resolve(hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Resolve of a deleted user's key: err = %v, want ErrNotFound", err)
		}
		if _, err := st.Users().Get(alice.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of a deleted user: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("setting written", func(t *testing.T) {
		var v struct{ N int }
		if err := st.Settings().Get("auth", &v); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of an unset document: err = %v, want ErrNotFound", err)
		}
		if err := st.Settings().Put("auth", map[string]int{"N": 1}); err != nil {
			t.Fatal(err)
		}
		for want := 1; want <= 2; want++ {
			for range 2 {
				if err := st.Settings().Get("auth", &v); err != nil || v.N != want {
					t.Fatalf("Get = %+v, %v; want N=%d", v, err, want)
				}
			}
			if err := st.Settings().Put("auth", map[string]int{"N": want + 1}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Readers racing a writer never see a document older than the last write that
// returned before their read began: a value read before a commit is not kept
// past it.
func TestReadCacheRacingWrites(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	const writes = 30
	type doc struct{ N int }
	if err := st.Settings().Put("race", doc{0}); err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		committed int // the last write that returned; guarded by mu
		wg        sync.WaitGroup
		stop      = make(chan struct{})
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				floor := committed
				mu.Unlock()
				var d doc
				if err := st.Settings().Get("race", &d); err != nil {
					t.Error(err)
					return
				}
				if d.N < floor {
					t.Errorf("read N=%d after write %d had returned", d.N, floor)
					return
				}
			}
		}()
	}
	for n := 1; n <= writes; n++ {
		if err := st.Settings().Put("race", doc{n}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		committed = n
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
}
