//go:build linux

package pool

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// mmapLoader loads resources that hold real memory: an anonymous mapping,
// every page touched, as weights read from a mapped file would be.
type mmapLoader struct{ size int }

func (m mmapLoader) Estimate(ctx context.Context, id string) (int64, error) {
	return int64(m.size), nil
}

func (m mmapLoader) Load(ctx context.Context, id string) (Resource, error) {
	mem, err := unix.Mmap(-1, 0, m.size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 1
	}
	return &mmapResource{mem: mem}, nil
}

type mmapResource struct {
	mu  sync.Mutex
	mem []byte // guarded by mu
}

func (r *mmapResource) ResidentBytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.mem))
}

func (r *mmapResource) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := unix.Munmap(r.mem)
	r.mem = nil
	return err
}

// rss is the process's resident set size from /proc/self/statm.
func rss(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("read /proc/self/statm (this file builds on linux only): %v", err)
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		t.Fatalf("statm %q", data)
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatalf("statm %q: %v", data, err)
	}
	return pages * int64(os.Getpagesize())
}

func TestUnloadReleasesMemory(t *testing.T) {
	const size = 64 << 20
	rss(t) // skips without /proc
	p := New(Config{BudgetBytes: -1, Logger: discardLogger()}, mmapLoader{size: size})
	defer p.Close()
	ctx := context.Background()
	before := rss(t)
	if err := p.Load(ctx, "m", LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	loaded := rss(t)
	if grew := loaded - before; grew < size*3/4 {
		t.Fatalf("RSS grew by %d bytes on load, want about %d", grew, size)
	}
	if s, _ := statusOf(p, "m"); s.ResidentBytes != size {
		t.Errorf("resident %d, want %d", s.ResidentBytes, size)
	}
	if err := p.Unload(ctx, "m", UnloadOptions{}); err != nil {
		t.Fatal(err)
	}
	after := rss(t)
	if freed := loaded - after; freed < size*3/4 {
		t.Errorf("RSS fell by %d bytes on unload (%d → %d), want most of %d", freed, loaded, after, size)
	}
}
