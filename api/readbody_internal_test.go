package api

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAtMost(t *testing.T) {
	body := strings.Repeat("0123456789", 300) // 3000 bytes, past ReadAll's first 512
	for _, tc := range []struct {
		name    string
		n, size int64
		want    string
	}{
		{"declared size", 10000, 3000, body},
		{"no size", 10000, -1, body},
		{"a size too small", 10000, 10, body},
		{"a size too large", 10000, 9000, body},
		{"a size past the limit", 100, 5000, body[:100]},
		{"cut at the limit", 2999, 3000, body[:2999]},
		{"empty", 10, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.NewReader(body)
			if tc.name == "empty" {
				src = strings.NewReader("")
			}
			// One byte at a time: every read ends short, as a network body's do.
			got, err := readAtMost(iotest.OneByteReader(src), tc.n, tc.size)
			if err != nil || string(got) != tc.want {
				t.Fatalf("readAtMost = %d bytes, %v; want %d bytes", len(got), err, len(tc.want))
			}
		})
	}
	if _, err := readAtMost(iotest.ErrReader(io.ErrUnexpectedEOF), 10, -1); err != io.ErrUnexpectedEOF {
		t.Errorf("a failed read: %v, want io.ErrUnexpectedEOF", err)
	}
	// The point of the size: one allocation for the whole body.
	b := []byte(body)
	rd := bytes.NewReader(b)
	if n := testing.AllocsPerRun(50, func() { rd.Reset(b); _, _ = readAtMost(rd, 10000, int64(len(b))) }); n != 1 {
		t.Errorf("readAtMost with the body's size: %v allocations, want 1", n)
	}
}
