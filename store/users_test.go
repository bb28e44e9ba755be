package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func mustCreate(t *testing.T, st *store.Store, email string) store.User {
	t.Helper()
	u, err := st.Users().Create(email, "$argon2id$fake")
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func TestUsersCreate(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	first := mustCreate(t, st, "  Admin@Example.COM ")
	if first.Email != "admin@example.com" || !first.IsAdmin || first.Status != store.StatusApproved {
		t.Fatalf("first user = %+v, want normalised approved admin", first)
	}
	second := mustCreate(t, st, "bob@example.com")
	if second.IsAdmin || second.Status != store.StatusPending {
		t.Fatalf("second user = %+v, want pending non-admin", second)
	}
	if _, err := st.Users().Create("BOB@example.com", "x"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate email: err = %v, want ErrConflict", err)
	}
	got, err := st.Users().ByEmail(" ADMIN@example.com")
	if err != nil || got.ID != first.ID {
		t.Fatalf("ByEmail = %+v, %v; want %s", got, err, first.ID)
	}
	if _, err := st.Users().ByEmail("nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ByEmail unknown: err = %v, want ErrNotFound", err)
	}
	if n, err := st.Users().CountPending(); err != nil || n != 1 {
		t.Fatalf("CountPending = %d, %v; want 1", n, err)
	}
	list, err := st.Users().List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v", list, err)
	}
}

// Two registrations racing on an empty database: exactly one becomes admin.
func TestUsersConcurrentFirstRegistration(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	var wg sync.WaitGroup
	users := make([]store.User, 8)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := st.Users().Create(string(rune('a'+i))+"@example.com", "h")
			if err != nil {
				t.Errorf("create: %v", err)
			}
			users[i] = u
		}()
	}
	wg.Wait()
	admins := 0
	for _, u := range users {
		if u.IsAdmin {
			admins++
		}
	}
	if admins != 1 {
		t.Fatalf("%d admins after concurrent registrations, want 1", admins)
	}
}

func TestUsersLastAdmin(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	admin := mustCreate(t, st, "admin@example.com")
	other := mustCreate(t, st, "other@example.com")
	us := st.Users()

	refused := []struct {
		name string
		do   func() error
	}{
		{"demote", func() error { _, err := us.Update(admin.ID, store.UserPatch{IsAdmin: ptr(false)}); return err }},
		{"disable", func() error {
			_, err := us.Update(admin.ID, store.UserPatch{Status: ptr(store.StatusDisabled)})
			return err
		}},
		{"back to pending", func() error {
			_, err := us.Update(admin.ID, store.UserPatch{Status: ptr(store.StatusPending)})
			return err
		}},
		{"delete", func() error { return us.Delete(admin.ID) }},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, store.ErrLastAdmin) {
				t.Fatalf("err = %v, want ErrLastAdmin", err)
			}
			u, _ := us.Get(admin.ID)
			if !u.ActiveAdmin() {
				t.Fatalf("admin changed anyway: %+v", u)
			}
		})
	}

	// A pending admin is not an active one: promoting other without approving it
	// still leaves admin as the last active admin.
	if _, err := us.Update(other.ID, store.UserPatch{IsAdmin: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := us.Delete(admin.ID); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("delete with only a pending second admin: err = %v, want ErrLastAdmin", err)
	}
	if _, err := us.Update(other.ID, store.UserPatch{Status: ptr(store.StatusApproved)}); err != nil {
		t.Fatal(err)
	}
	if _, err := us.Update(admin.ID, store.UserPatch{IsAdmin: ptr(false)}); err != nil {
		t.Fatalf("demote with another active admin: %v", err)
	}
	if err := us.Delete(other.ID); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("delete the new last admin: err = %v, want ErrLastAdmin", err)
	}
}

func TestUsersTokenGeneration(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	mustCreate(t, st, "admin@example.com")
	u := mustCreate(t, st, "u@example.com")
	us := st.Users()
	steps := []struct {
		name    string
		do      func() (store.User, error)
		wantGen uint64
	}{
		{"approve keeps sessions", func() (store.User, error) {
			return us.Update(u.ID, store.UserPatch{Status: ptr(store.StatusApproved)})
		}, 0},
		{"role change keeps sessions", func() (store.User, error) {
			return us.Update(u.ID, store.UserPatch{IsAdmin: ptr(true)})
		}, 0},
		{"login keeps sessions", func() (store.User, error) { return us.RecordLogin(u.ID, time.Now()) }, 0},
		{"disable ends sessions", func() (store.User, error) {
			return us.Update(u.ID, store.UserPatch{Status: ptr(store.StatusDisabled)})
		}, 1},
		{"re-approve", func() (store.User, error) {
			return us.Update(u.ID, store.UserPatch{Status: ptr(store.StatusApproved)})
		}, 1},
		{"password change ends sessions", func() (store.User, error) { return us.SetPassword(u.ID, "new") }, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, err := s.do()
			if err != nil {
				t.Fatal(err)
			}
			if got.TokenGen != s.wantGen {
				t.Fatalf("token gen = %d, want %d", got.TokenGen, s.wantGen)
			}
		})
	}
	if _, err := us.Update(u.ID, store.UserPatch{Status: ptr(store.UserStatus("bogus"))}); err == nil {
		t.Fatal("unknown status accepted")
	}
	if _, err := us.Update("missing", store.UserPatch{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: err = %v, want ErrNotFound", err)
	}
}

func TestUsersDeleteRemovesKeysAndEmail(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	mustCreate(t, st, "admin@example.com")
	u := mustCreate(t, st, "gone@example.com")
	hash := [32]byte{1, 2, 3}
	if _, err := st.APIKeys().Create(u.ID, "k", "mlxm-abc", hash); err != nil {
		t.Fatal(err)
	}
	if err := st.Users().Delete(u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.APIKeys().Resolve(hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted user's key still resolves: %v", err)
	}
	if _, err := st.Users().Get(u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get deleted: err = %v", err)
	}
	again := mustCreate(t, st, "gone@example.com")
	if again.ID == u.ID || again.Status != store.StatusPending {
		t.Fatalf("re-registered user = %+v", again)
	}
	if err := st.Users().Delete("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: err = %v", err)
	}
}
