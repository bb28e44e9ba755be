package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	for name, p := range map[string]Params{"test": TestParams, "default": DefaultParams} {
		t.Run(name, func(t *testing.T) {
			h, err := NewHasher(p)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := h.Hash(ctx, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			got, _, _, err := ParsePHC(enc)
			if err != nil || got != p {
				t.Fatalf("ParsePHC(%q) = %+v, %v; want %+v", enc, got, err, p)
			}
			if ok, err := h.Verify(ctx, "correct horse", enc); !ok || err != nil {
				t.Fatalf("right password: %v, %v", ok, err)
			}
			if ok, err := h.Verify(ctx, "correct horsE", enc); ok || err != nil {
				t.Fatalf("wrong password: %v, %v", ok, err)
			}
			again, _ := h.Hash(ctx, "correct horse")
			if again == enc {
				t.Fatal("two hashes of one password are equal: salt not random")
			}
			if err := h.VerifyDummy(ctx, "anything"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A hash made with other parameters still verifies: they are read from the string.
func TestVerifyUsesStoredParams(t *testing.T) {
	ctx := context.Background()
	old, _ := NewHasher(Params{MemoryKiB: 128, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16})
	enc, _ := old.Hash(ctx, "pw")
	cur, _ := NewHasher(TestParams)
	if ok, err := cur.Verify(ctx, "pw", enc); !ok || err != nil {
		t.Fatalf("verify old-params hash: %v, %v", ok, err)
	}
}

func TestParsePHCRejects(t *testing.T) {
	good := "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw"
	if _, _, _, err := ParsePHC(good); err != nil {
		t.Fatalf("good hash: %v", err)
	}
	bad := map[string]string{
		"empty":          "",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":    strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=99999999", 1),
		"zero time":      strings.Replace(good, "t=1", "t=0", 1),
		"many passes":    strings.Replace(good, "t=1", "t=1000", 1),
		"zero threads":   strings.Replace(good, "p=1", "p=0", 1),
		"trailing junk":  strings.Replace(good, "p=1", "p=1x", 1),
		"short salt":     "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5aw",
		"bad base64 key": "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$!!!",
		"extra field":    good + "$x",
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := ParsePHC(s); !errors.Is(err, ErrBadHash) {
				t.Fatalf("ParsePHC(%q) err = %v, want ErrBadHash", s, err)
			}
		})
	}
}

func TestHashCancelled(t *testing.T) {
	h, _ := NewHasher(TestParams)
	for range cap(h.sem) {
		h.sem <- struct{}{} // every slot busy
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with busy slots and cancelled ctx: err = %v", err)
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := ParsePHC(s)
		if err != nil {
			return
		}
		if p.MemoryKiB > maxMemoryKiB || p.Time > maxTime || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("accepted out-of-range hash %q: %+v", s, p)
		}
	})
}

func BenchmarkHashDefault(b *testing.B) {
	h, _ := NewHasher(DefaultParams)
	for b.Loop() {
		h.Hash(context.Background(), "correct horse battery staple")
	}
}

func TestDummyHashCostsTheSame(t *testing.T) {
	h, err := NewHasher(TestParams)
	if err != nil {
		t.Fatal(err)
	}
	p, salt, key, err := ParsePHC(h.dummy)
	if err != nil {
		t.Fatal(err)
	}
	if p.MemoryKiB != TestParams.MemoryKiB || p.Time != TestParams.Time || p.Threads != TestParams.Threads ||
		len(salt) != int(TestParams.SaltLen) || len(key) != int(TestParams.KeyLen) {
		t.Fatalf("dummy %s does not carry the hasher's parameters %+v", h.dummy, TestParams)
	}
	if err := h.VerifyDummy(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
}

// Finding 4 of issue #27: a flood of registrations (each an Argon2 hash) held every
// hashing slot and sign-ins queued behind them for seconds. Hashes may now take all
// slots but one, so a Verify always finds one.
func TestHashFloodLeavesRoomForVerify(t *testing.T) {
	h, err := NewHasher(TestParams)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	// Hold every hashing slot, as registrations in the middle of Argon2 would.
	for range cap(h.hashSem) {
		if err := h.acquireHash(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// And queue a flood behind them.
	var flood sync.WaitGroup
	for range 50 {
		flood.Go(func() {
			if _, err := h.Hash(ctx, "flood password"); err != nil {
				t.Error(err)
			}
		})
	}
	ok, err := h.Verify(ctx, "correct horse", hash)
	if err != nil || !ok {
		t.Fatalf("verify during the flood: %v, %v (starved until the deadline?)", ok, err)
	}
	for range cap(h.hashSem) {
		h.releaseHash()
	}
	flood.Wait()
}
