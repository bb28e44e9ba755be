package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// Each profile write is seen by the very next read, although the read before
// it filled the profile view: create, update, rename and delete, by name, by id
// and in the list.
func TestProfileViewWrites(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ps := st.Profiles()
	names := func() []string {
		t.Helper()
		all, err := ps.List()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range all {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(); len(got) != 0 {
		t.Fatalf("List of a new store = %v", got)
	}
	if _, ok, err := ps.Find("beta"); ok || err != nil {
		t.Fatalf("Find before any profile: ok %v, %v", ok, err)
	}

	beta, err := ps.Create(store.Profile{Name: "beta", Model: "org/b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(names()); got != "[beta]" {
		t.Fatalf("List after create = %s", got)
	}
	alpha, err := ps.Create(store.Profile{Name: "Alpha", Model: "org/a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(names()); got != "[Alpha beta]" {
		t.Fatalf("List after a second create = %s, want it sorted by name", got)
	}
	for _, ref := range []string{"alpha", "ALPHA", alpha.ID} {
		if p, ok, err := ps.Find(ref); !ok || err != nil || p.ID != alpha.ID {
			t.Fatalf("Find(%q) = %+v, %v, %v; want Alpha", ref, p, ok, err)
		}
	}
	if p, err := ps.ByName("aLpHa"); err != nil || p.ID != alpha.ID {
		t.Fatalf("ByName = %+v, %v; want Alpha", p, err)
	}

	maxTok := 64
	if _, err := ps.Update(beta.ID, store.Profile{Name: "gamma", Model: "org/g", MaxTokens: &maxTok}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.ByName("beta"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ByName of the old name after a rename: err = %v, want ErrNotFound", err)
	}
	p, err := ps.Get(beta.ID)
	if err != nil || p.Name != "gamma" || p.Model != "org/g" || p.MaxTokens == nil || *p.MaxTokens != 64 {
		t.Fatalf("Get after update = %+v, %v", p, err)
	}
	if got := fmt.Sprint(names()); got != "[Alpha gamma]" {
		t.Fatalf("List after a rename = %s", got)
	}
	*p.MaxTokens = 1 // what a caller does with its copy stays its own
	if again, _ := ps.Get(beta.ID); *again.MaxTokens != 64 {
		t.Fatalf("a caller's change reached the view: max tokens %d", *again.MaxTokens)
	}
	if _, err := ps.Create(store.Profile{Name: "GAMMA"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create of a taken name: err = %v, want ErrConflict", err)
	}

	if err := ps.Delete(alpha.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Get(alpha.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after delete: err = %v, want ErrNotFound", err)
	}
	if _, ok, err := ps.Find("alpha"); ok || err != nil {
		t.Fatalf("Find after delete: ok %v, %v", ok, err)
	}
	if got := fmt.Sprint(names()); got != "[gamma]" {
		t.Fatalf("List after delete = %s", got)
	}
}

// A failed write changes nothing, and its rollback does not leave a view that
// misses the last committed state.
func TestProfileViewFailedWrite(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ps := st.Profiles()
	a, err := ps.Create(store.Profile{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Create(store.Profile{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Update(a.ID, store.Profile{Name: "B"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto a taken name: err = %v, want ErrConflict", err)
	}
	if p, err := ps.ByName("a"); err != nil || p.ID != a.ID {
		t.Fatalf("ByName after a refused rename = %+v, %v", p, err)
	}
	if err := ps.Delete("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete of an unknown id: err = %v", err)
	}
}

// Readers racing a writer never see a profile older than the last write that
// returned before their read began.
func TestProfileViewRacingWrites(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	ps := st.Profiles()
	const writes = 30
	zero := 0
	p, err := ps.Create(store.Profile{Name: "race-0", MaxTokens: &zero})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		committed int // the last write that returned; guarded by mu
		wg        sync.WaitGroup
		stop      = make(chan struct{})
	)
	for reader := range 4 {
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
				var got store.Profile
				var err error
				if reader%2 == 0 {
					got, err = ps.Get(p.ID)
				} else {
					var all []store.Profile
					if all, err = ps.List(); err == nil && len(all) == 1 {
						got = all[0]
					}
				}
				if err != nil || got.MaxTokens == nil {
					t.Errorf("read = %+v, %v", got, err)
					return
				}
				if n := *got.MaxTokens; n < floor || got.Name != fmt.Sprint("race-", n) {
					t.Errorf("read %q with %d after write %d had returned", got.Name, n, floor)
					return
				}
			}
		}()
	}
	for n := 1; n <= writes; n++ {
		if _, err := ps.Update(p.ID, store.Profile{Name: fmt.Sprint("race-", n), MaxTokens: &n}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		committed = n
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
}

// Resolving a request's model name reads the view without allocating, whether
// it names a profile or not.
func TestProfileFindAllocs(t *testing.T) {
	st := storetest.Open(t)
	ps := st.Profiles()
	if _, err := ps.Create(store.Profile{Name: "Writer", Model: "org/m"}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"writer", "Qwen/Qwen3-0.6B", "mlx-community/Llama-3.2-1B-Instruct-4bit"} {
		if _, _, err := ps.Find(ref); err != nil { // fills the view
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { ps.Find(ref) }); n != 0 {
			t.Errorf("Find(%q): %v allocations, want 0", ref, n)
		}
	}
}
