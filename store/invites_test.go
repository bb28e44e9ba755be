package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestInvites(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	admin := mustCreate(t, st, "admin@example.com")
	is := st.Invites()

	if _, err := is.Create("nobody", "", [32]byte{9}, clock.Now().Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invite by an unknown user: %v, want ErrNotFound", err)
	}
	a, err := is.Create(admin.ID, "for carol", [32]byte{1}, clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	b, err := is.Create(admin.ID, "", [32]byte{2}, clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := is.Create(admin.ID, "", [32]byte{1}, clock.Now().Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate token hash: %v, want ErrConflict", err)
	}
	if list, err := is.List(); err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("List = %+v, %v; want b, a", list, err)
	}

	// An unknown token, then the right one: an approved account, the invite used.
	if _, _, err := st.Users().CreateInvited("carol@example.com", "h", [32]byte{7}); !errors.Is(err, store.ErrInviteInvalid) {
		t.Fatalf("unknown token: %v", err)
	}
	u, inv, err := st.Users().CreateInvited("Carol@Example.com", "h", [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != store.StatusApproved || u.IsAdmin || u.Email != "carol@example.com" || inv.ID != a.ID || inv.UsedBy != u.ID {
		t.Fatalf("invited user %+v via %+v", u, inv)
	}
	// Used once: never again, not even for another e-mail.
	if _, _, err := st.Users().CreateInvited("dave@example.com", "h", [32]byte{1}); !errors.Is(err, store.ErrInviteInvalid) {
		t.Fatalf("used invite: %v", err)
	}
	if _, err := is.Delete(a.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("deleting a used invite: %v, want ErrConflict", err)
	}
	// An existing e-mail does not spend the invite.
	if _, _, err := st.Users().CreateInvited("admin@example.com", "h", [32]byte{2}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("existing e-mail: %v", err)
	}
	// Expired.
	clock.Advance(time.Hour)
	if _, _, err := st.Users().CreateInvited("erin@example.com", "h", [32]byte{2}); !errors.Is(err, store.ErrInviteInvalid) {
		t.Fatalf("expired invite: %v", err)
	}
	// Revoked.
	if _, err := is.Delete(b.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := is.List(); len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("after revoking b: %+v", list)
	}
	if _, err := is.Delete(b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

// Two people racing with one invite: exactly one account is created.
func TestInviteUsedOnce(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	admin := mustCreate(t, st, "admin@example.com")
	if _, err := st.Invites().Create(admin.ID, "", [32]byte{1}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = st.Users().CreateInvited(string(rune('a'+i))+"@example.com", "h", [32]byte{1})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrInviteInvalid):
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d accounts from one invite", ok)
	}
}
