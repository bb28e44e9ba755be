package meminfo

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestField(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "meminfo"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		field   string
		want    int64
		wantErr bool
	}{
		{"real file", string(data), "MemTotal", 16318480 * 1024, false},
		{"real file, another field", string(data), "MemAvailable", 9876540 * 1024, false},
		{"bytes without unit", "MemTotal: 4096\n", "MemTotal", 4096, false},
		{"no MemTotal", "MemFree: 10 kB\n", "MemTotal", 0, true},
		{"a prefix is not the field", "MemTotalX: 10 kB\n", "MemTotal", 0, true},
		{"not a number", "MemTotal: lots kB\n", "MemTotal", 0, true},
		{"negative", "MemTotal: -5 kB\n", "MemTotal", 0, true},
		{"unknown unit", "MemTotal: 5 MB\n", "MemTotal", 0, true},
		{"overflow", "MemTotal: 9223372036854775807 kB\n", "MemTotal", 0, true},
		{"empty", "", "MemTotal", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Field([]byte(tt.in), tt.field)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Field(%s) = %d, %v; want %d, error %v", tt.field, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := Read("MemTotal"); err == nil {
			t.Errorf("Read succeeded on %s, which has no /proc/meminfo", runtime.GOOS)
		}
		return
	}
	for _, field := range []string{"MemTotal", "MemAvailable"} {
		if n, err := Read(field); err != nil || n <= 0 {
			t.Errorf("Read(%s) = %d, %v", field, n, err)
		}
	}
}

func FuzzField(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "meminfo")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("MemTotal: 1 kB\n"))
	f.Add([]byte("MemTotal:\n"))
	f.Add([]byte("MemTotal: 99999999999999999999 kB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Field(data, "MemTotal")
		if err == nil && n <= 0 {
			t.Errorf("Field accepted %q as %d bytes", data, n)
		}
	})
}
