package safetensors

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestMappingAdvisedHuge checks that Open asks for huge pages under the
// file's mapping: the kernel lists the advice as "hg" in the mapping's
// VmFlags (whether it can honour it depends on the kernel and the file
// system, which decode speed shows, not this test).
func TestMappingAdvisedHuge(t *testing.T) {
	_, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled")
	testenv.Need(t, err == nil, "a kernel with transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE), which accepts the advice")
	path := filepath.Join(t.TempDir(), "m.safetensors")
	data := make([]byte, 4<<20)
	if err := WriteFile(path, []Tensor{{Name: "w", DType: U8, Shape: []int{len(data)}, Data: data}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, ok := vmFlags(t, path)
	if !ok {
		t.Fatalf("no mapping of %s in /proc/self/smaps", path)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("VmFlags of the mapping %q: no hg (MADV_HUGEPAGE)", flags)
	}
}

// vmFlags returns the VmFlags line of the mapping of path in
// /proc/self/smaps.
func vmFlags(t *testing.T, path string) (string, bool) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasSuffix(l, " "+path) {
			in = true
			continue
		}
		if in && strings.HasPrefix(l, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmFlags:")), true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return "", false
}
