package safetensors

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestOpenHeldInHugePages checks that Open reads a file of a huge page or
// more into anonymous memory advised MADV_HUGEPAGE and made read-only, with
// the file's bytes (the size not a multiple of a page), and that the Set
// counts it as held; whether the kernel found 2 MiB pages for it is logged
// (it depends on the memory's fragmentation, which decode speed shows).
func TestOpenHeldInHugePages(t *testing.T) {
	needTHP(t)
	dir := t.TempDir()
	data := make([]byte, hugePage+3*4096+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, "m.safetensors")
	if err := WriteFile(path, []Tensor{{Name: "w", DType: U8, Shape: []int{len(data)}, Data: data}}, nil); err != nil {
		t.Fatal(err)
	}
	small := []byte{1, 2, 3, 4}
	if err := WriteFile(filepath.Join(dir, "n.safetensors"), []Tensor{{Name: "v", DType: U8, Shape: []int{len(small)}, Data: small}}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Tensor("w")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Tensor("v")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Data, data) || !bytes.Equal(v.Data, small) {
		t.Fatal("tensor bytes differ from the file's")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Files()[0].Held() || s.Files()[1].Held() {
		t.Fatalf("held: %v, %v; want the file of %d bytes held, the one of %d mapped", s.Files()[0].Held(), s.Files()[1].Held(), st.Size(), len(small))
	}
	if got, want := s.HeldBytes(), (st.Size()+hugePage-1)&^(hugePage-1); got != want {
		t.Errorf("HeldBytes %d, want the held file's %d bytes in whole huge pages, %d", got, st.Size(), want)
	}
	if !s.Held(w.Data) || !s.Held(w.Data[len(w.Data)-1:]) || s.Held(v.Data) || s.Held(data) {
		t.Error("Held: want true for the held file's tensor (first and last byte), false for the mapped one's and for other memory")
	}
	m, ok := mappingAt(t, unsafe.Pointer(&w.Data[0]))
	if !ok {
		t.Fatal("the tensor's memory is in no mapping of /proc/self/smaps")
	}
	if m.path != "" {
		t.Errorf("the held file's memory is a mapping of %s, want anonymous", m.path)
	}
	for _, want := range []string{"rd", "hg"} {
		if !strings.Contains(" "+m.flags+" ", " "+want+" ") {
			t.Errorf("VmFlags %q: no %s", m.flags, want)
		}
	}
	if strings.Contains(" "+m.flags+" ", " wr ") {
		t.Errorf("VmFlags %q: writable, want read-only once filled", m.flags)
	}
	t.Logf("AnonHugePages %d kB of %d", m.anonHuge, st.Size()>>10)
}

// TestSmallFileMappedAdvisedHuge checks that a file under a huge page is
// mapped, not copied, and that the mapping asks for huge pages: the kernel
// lists the advice as "hg" in the mapping's VmFlags.
func TestSmallFileMappedAdvisedHuge(t *testing.T) {
	needTHP(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	data := make([]byte, hugePage/2)
	if err := WriteFile(path, []Tensor{{Name: "w", DType: U8, Shape: []int{len(data)}, Data: data}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Held() {
		t.Error("a file under a huge page was copied, want it mapped")
	}
	flags, ok := vmFlags(t, path)
	if !ok {
		t.Fatalf("no mapping of %s in /proc/self/smaps", path)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("VmFlags of the mapping %q: no hg (MADV_HUGEPAGE)", flags)
	}
}

func needTHP(t *testing.T) {
	t.Helper()
	testenv.Need(t, thpEnabled(), "a kernel with transparent huge pages enabled (always or madvise)")
}

// mapping is one entry of /proc/self/smaps.
type mapping struct {
	lo, hi   uint64 // the address range [lo, hi)
	path     string // "" for anonymous memory
	flags    string // VmFlags
	anonHuge int64  // AnonHugePages, kB
}

// smaps returns the entries of /proc/self/smaps.
func smaps(t *testing.T) []mapping {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var ms []mapping
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && !strings.HasSuffix(f[0], ":") {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			z, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				m := mapping{lo: a, hi: z}
				if len(f) >= 6 {
					m.path = strings.Join(f[5:], " ")
				}
				ms = append(ms, m)
				continue
			}
		}
		if len(ms) == 0 {
			continue
		}
		switch m := &ms[len(ms)-1]; f[0] {
		case "VmFlags:":
			m.flags = strings.Join(f[1:], " ")
		case "AnonHugePages:":
			m.anonHuge, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return ms
}

// mappingAt returns the entry of /proc/self/smaps whose range holds p.
func mappingAt(t *testing.T, p unsafe.Pointer) (mapping, bool) {
	t.Helper()
	addr := uint64(uintptr(p))
	for _, m := range smaps(t) {
		if addr >= m.lo && addr < m.hi {
			return m, true
		}
	}
	return mapping{}, false
}

// vmFlags returns the VmFlags of the mapping of path in /proc/self/smaps.
func vmFlags(t *testing.T, path string) (string, bool) {
	t.Helper()
	for _, m := range smaps(t) {
		if m.path == path {
			return m.flags, true
		}
	}
	return "", false
}
