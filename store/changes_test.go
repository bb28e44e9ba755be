package store_test

import (
	"errors"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestChanges(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	changes, cancel := st.Changes()
	defer cancel()
	next := func() store.Change {
		t.Helper()
		select {
		case c := <-changes:
			return c
		default:
			t.Fatal("no change published")
			return store.Change{}
		}
	}
	admin := mustCreate(t, st, "admin@example.com")
	if c := next(); c.Topic != store.ChangeUsers || c.ID != admin.ID {
		t.Fatalf("create: %+v", c)
	}
	bob := mustCreate(t, st, "bob@example.com")
	next()
	approved := store.StatusApproved
	if _, err := st.Users().Update(bob.ID, store.UserPatch{Status: &approved}); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.Topic != store.ChangeUsers || c.ID != bob.ID {
		t.Fatalf("update: %+v", c)
	}
	if err := st.Settings().Put("auth", map[string]bool{"x": true}); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.Topic != store.ChangeSettings || c.ID != "auth" {
		t.Fatalf("settings: %+v", c)
	}
	// A write that fails publishes nothing.
	if err := st.Users().Delete(admin.ID); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("deleting the last admin: %v", err)
	}
	if _, err := st.Users().Create("BOB@example.com", "h"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	select {
	case c := <-changes:
		t.Fatalf("a failed write published %+v", c)
	default:
	}
	if err := st.Users().Delete(bob.ID); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.ID != bob.ID {
		t.Fatalf("delete: %+v", c)
	}
}

// A subscriber that does not read never blocks a write; it is told it lost
// changes when it reads again.
func TestChangesSlowSubscriber(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	changes, cancel := st.Changes()
	for i := range 200 {
		if err := st.Settings().Put("s", i); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for drained := false; !drained; {
		select {
		case <-changes:
			n++
		default:
			drained = true
		}
	}
	if n == 0 || n == 200 {
		t.Fatalf("received %d of 200 changes with a bounded buffer", n)
	}
	if err := st.Settings().Put("s", -1); err != nil {
		t.Fatal(err)
	}
	if c := <-changes; !c.Lost {
		t.Fatalf("after dropping changes the next one is %+v, want Lost", c)
	}
	cancel()
	cancel() // idempotent
	if _, ok := <-changes; ok {
		t.Fatal("channel not closed by cancel")
	}
	if err := st.Settings().Put("s", 0); err != nil { // no subscriber: still fine
		t.Fatal(err)
	}
}
