package store

import (
	"encoding/binary"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Finding 3 of issue #27: profiles had no owner. Those stored before owners existed
// go to the first admin, shared, when the store is opened by this build.
func TestMigrateProfileOwners(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.Users().Create("admin@example.com", "hash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Users().Create("bob@example.com", "hash"); err != nil {
		t.Fatal(err)
	}
	old, err := s.Profiles().Create(Profile{Name: "legacy", Model: "org/m", SystemPrompt: "be brief"})
	if err != nil {
		t.Fatal(err)
	}
	owned, err := s.Profiles().Create(Profile{Name: "bobs", Model: "org/m", OwnerID: "bob-id"})
	if err != nil {
		t.Fatal(err)
	}
	// Back to schema 1, as a database written by the previous build.
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 1))
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Profiles().Get(old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerID != admin.ID || !got.Shared || got.SystemPrompt != "be brief" {
		t.Fatalf("migrated profile = %+v, want owned by the admin %s, shared, prompt kept", got, admin.ID)
	}
	if got, _ := s.Profiles().Get(owned.ID); got.OwnerID != "bob-id" || got.Shared {
		t.Fatalf("already owned profile changed by the migration: %+v", got)
	}
}

func TestProfileAccessRules(t *testing.T) {
	t.Parallel()
	admin := User{ID: "a", IsAdmin: true, Status: StatusApproved}
	owner := User{ID: "o", Status: StatusApproved}
	other := User{ID: "x", Status: StatusApproved}
	private := Profile{OwnerID: "o"}
	shared := Profile{OwnerID: "o", Shared: true}
	orphan := Profile{Shared: true}
	cases := []struct {
		name           string
		p              Profile
		u              User
		visible, write bool
	}{
		{"owner private", private, owner, true, true},
		{"other private", private, other, false, false},
		{"admin private", private, admin, true, true},
		{"other shared", shared, other, true, false},
		{"owner shared", shared, owner, true, true},
		{"orphan other", orphan, other, true, false},
		{"orphan admin", orphan, admin, true, true},
		{"ownerless user id empty", Profile{}, User{}, false, false},
	}
	for _, c := range cases {
		if v, w := c.p.VisibleTo(c.u), c.p.EditableBy(c.u); v != c.visible || w != c.write {
			t.Errorf("%s: visible %v editable %v, want %v %v", c.name, v, w, c.visible, c.write)
		}
	}
}
