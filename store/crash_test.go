package store_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

const crashChildEnv = "MLXM_STORE_CRASH_CHILD_DIR"

// crashWriter is the child side of TestCrashDurability: it writes users, keys and
// audit events as fast as it can and prints each one only after the store
// acknowledged it, until it is killed.
func crashWriter(dir string) {
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	for i := 0; i < 100_000; i++ { // bounded in case the parent never kills us
		email := "user" + strconv.Itoa(i) + "@example.com"
		u, err := st.Users().Create(email, "$argon2id$fake")
		if err != nil {
			fmt.Fprintln(os.Stderr, "child create user:", err)
			os.Exit(3)
		}
		fmt.Printf("user %s %s\n", u.ID, email)
		hash := sha256.Sum256([]byte(email))
		k, err := st.APIKeys().Create(u.ID, "k", "mlxm-x", hash)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child create key:", err)
			os.Exit(3)
		}
		fmt.Printf("key %s %s\n", k.ID, hex.EncodeToString(hash[:]))
		ev, err := st.Audit().Append(store.AuditEvent{Action: "auth.register", UserID: u.ID})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append audit:", err)
			os.Exit(3)
		}
		fmt.Printf("audit %s\n", ev.ID)
	}
	os.Exit(0)
}

// TestCrashDurability SIGKILLs a process in the middle of a burst of writes and
// checks that every write it saw acknowledged survived and the file is consistent.
func TestCrashDurability(t *testing.T) {
	t.Parallel()
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashWriter(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		acked = append(acked, sc.Text())
		if len(acked) == 120 {
			// Mid-burst: the child is in the middle of some transaction right now.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if len(acked) < 120 {
		t.Fatalf("child acknowledged only %d writes before exiting: %v", len(acked), err)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.Success() {
		t.Fatalf("child was not killed: %v", err)
	}

	st := storetest.OpenDir(t, dir, store.Options{})
	if err := st.Check(); err != nil {
		t.Fatalf("check after crash: %v", err)
	}
	page, err := st.Audit().Query(store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]bool{}
	for _, ev := range page.Events {
		events[ev.ID] = true
	}
	for _, line := range acked {
		if err := verifyAcked(st, strings.Fields(line), events); err != nil {
			t.Errorf("acknowledged %q: %v", line, err)
		}
	}
	t.Logf("%d acknowledged writes all found after kill -9", len(acked))
}

func verifyAcked(st *store.Store, f []string, events map[string]bool) error {
	switch {
	case len(f) == 3 && f[0] == "user":
		u, err := st.Users().Get(f[1])
		if err != nil {
			return err
		}
		if u.Email != f[2] {
			return fmt.Errorf("email %q, want %q", u.Email, f[2])
		}
	case len(f) == 3 && f[0] == "key":
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 32 {
			return fmt.Errorf("bad hash %q", f[2])
		}
		k, _, err := st.APIKeys().Resolve([32]byte(b))
		if err != nil {
			return err
		}
		if k.ID != f[1] {
			return fmt.Errorf("key id %s, want %s", k.ID, f[1])
		}
	case len(f) == 2 && f[0] == "audit":
		if !events[f[1]] {
			return fmt.Errorf("audit event missing")
		}
	default:
		return fmt.Errorf("unexpected line")
	}
	return nil
}
