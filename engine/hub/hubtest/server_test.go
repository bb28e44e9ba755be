package hubtest

import "testing"

func TestParseRange(t *testing.T) {
	tests := []struct {
		in         string
		start, end int
		ok         bool
	}{
		{"bytes=0-", 0, 9, true},
		{"bytes=4-", 4, 9, true},
		{"bytes=2-5", 2, 5, true},
		{"bytes=2-50", 2, 9, true},
		{"bytes=10-", 0, 0, false},
		{"bytes=5-2", 0, 0, false},
		{"bytes=-3", 0, 0, false},
		{"bytes=0-1,4-5", 0, 0, false},
		{"items=0-", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			start, end, ok := parseRange(tt.in, 10)
			if ok != tt.ok || (ok && (start != tt.start || end != tt.end)) {
				t.Errorf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", tt.in, start, end, ok, tt.start, tt.end, tt.ok)
			}
		})
	}
}
