package grammar

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// smallMasker indexes the first n tokens of the test vocabulary plus an EOS.
func smallMasker(t *testing.T, n int) (*Masker, int32) {
	t.Helper()
	v := loadVocab(t)
	vocab := append(v.vocab[:n:n], []byte("<eos>"))
	special := append(v.special[:n:n], true)
	m, err := NewMasker(vocab, special, int32(n))
	if err != nil {
		t.Fatal(err)
	}
	return m, int32(n)
}

// TestConcurrentMatchers shares one grammar and one masker (and so their
// token tables) between goroutines; run with -race.
func TestConcurrentMatchers(t *testing.T) {
	m, eos := smallMasker(t, 5000)
	g, err := FromSchema([]byte(walkSchemas[1]))
	if err != nil {
		t.Fatal(err)
	}
	sv, _ := parseValue([]byte(walkSchemas[1]))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 0))
			for range 3 {
				text, ok := randomWalk(t, m, eos, g, r, 200)
				if ok {
					if err := validateText(sv, text); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestTablesReleasedWithMasker: a long-lived grammar (JSON()) does not keep the
// token tables of a vocabulary that is gone.
func TestTablesReleasedWithMasker(t *testing.T) {
	prog, err := JSON().program()
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		prog.tablesMu.Lock()
		defer prog.tablesMu.Unlock()
		return len(prog.tables)
	}
	before := count()
	func() {
		m, _ := smallMasker(t, 1000)
		mt, err := m.NewMatcher(JSON())
		if err != nil {
			t.Fatal(err)
		}
		if err := mt.Mask(NewBitset(m.Size())); err != nil {
			t.Fatal(err)
		}
	}()
	if count() != before+1 {
		t.Fatalf("tables for %d maskers, want %d", count(), before+1)
	}
	for deadline := time.Now().Add(10 * time.Second); count() > before && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if count() != before {
		t.Fatalf("tables of a collected masker are still held (%d, want %d)", count(), before)
	}
}
