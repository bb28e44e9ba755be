package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		s.Close()
	})
	return s, dir
}

func TestOpenSecuresFiles(t *testing.T) {
	t.Parallel()
	_, dir := openTemp(t)
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600, filepath.Join(dir, pidFileName): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", path, got, want)
		}
	}
}

// Finding 7 of issue #27: the database kept loose permissions (0644) after a
// restart; every file of the data dir is closed to others at open.
func TestOpenRepairsLooseModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	other := filepath.Join(dir, "daemon.log")
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, FileName), other} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{filepath.Join(dir, FileName), other} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o after reopen, want 600", p, got)
		}
	}
}

func TestSecondOpenSaysWhoHoldsTheLock(t *testing.T) {
	t.Parallel()
	_, dir := openTemp(t)
	start := time.Now()
	_, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want a LockedError", err)
	}
	if le.PID != os.Getpid() || !strings.Contains(err.Error(), "already running, pid") {
		t.Errorf("err = %v, want this pid %d", err, os.Getpid())
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second open hung")
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Settings().Put("pool", map[string]int{"max_models": 3}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Profiles().Create(Profile{Name: "Coder", Model: "org/m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Downloads().Put("t1", map[string]string{"repo": "org/m"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pool map[string]int
	if err := s.Settings().Get("pool", &pool); err != nil || pool["max_models"] != 3 {
		t.Errorf("pool setting = %v, %v", pool, err)
	}
	if got, err := s.Profiles().Get(p.ID); err != nil || got.Name != "Coder" {
		t.Errorf("profile = %+v, %v", got, err)
	}
	if recs, err := s.Downloads().All(); err != nil || len(recs) != 1 {
		t.Errorf("downloads = %v, %v", recs, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, SchemaVersion+1))
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("err = %v, want a refusal of the newer schema", err)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	var v struct{ A int }
	if err := s.Settings().Get("missing", &v); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if err := s.Settings().Put("x", map[string]int{"A": 7}); err != nil {
		t.Fatal(err)
	}
	if err := s.Settings().Get("x", &v); err != nil || v.A != 7 {
		t.Fatalf("got %+v, %v", v, err)
	}
	all, err := s.Settings().All()
	if err != nil || string(all["x"]) != `{"A":7}` {
		t.Fatalf("all = %s, %v", all, err)
	}
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ps := s.Profiles()
	temp := 0.2
	a, err := ps.Create(Profile{Name: "Writer", Model: "org/a", Temperature: &temp, AutoStart: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Create(Profile{Name: "writer", Model: "org/b"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: err = %v, want ErrConflict", err)
	}
	b, err := ps.Create(Profile{Name: "Alpha", Model: "org/b"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := ps.List()
	if err != nil || len(list) != 2 || list[0].Name != "Alpha" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := ps.Update(b.ID, Profile{Name: "Writer", Model: "org/b"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("rename onto another: err = %v, want ErrConflict", err)
	}
	upd, err := ps.Update(a.ID, Profile{Name: "Writer", Model: "org/c"})
	if err != nil || upd.Model != "org/c" || !upd.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("update = %+v, %v", upd, err)
	}
	if got, err := ps.ByName("WRITER"); err != nil || got.ID != a.ID {
		t.Fatalf("by name = %+v, %v", got, err)
	}
	if err := ps.Delete(a.ID); err != nil {
		t.Fatal(err)
	}
	if err := ps.Delete(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: err = %v, want ErrNotFound", err)
	}
	if _, err := ps.Get(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: err = %v", err)
	}
}

func TestRecords(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	r := s.Downloads()
	for _, id := range []string{"b", "a"} {
		if err := r.Put(id, map[string]string{"id": id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Delete("b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete("never"); err != nil {
		t.Fatalf("deleting a missing record: %v", err)
	}
	all, err := r.All()
	if err != nil || len(all) != 1 || string(all[0]) != `{"id":"a"}` {
		t.Fatalf("all = %s, %v", all, err)
	}
}
