package sample

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// wholeText is the reference: what a matcher given the full text at once emits.
func wholeText(stops []string, text string) (string, bool) {
	end, start := -1, 0
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 {
			e := i + len(s)
			if end < 0 || e < end || (e == end && i < start) {
				end, start = e, i
			}
		}
	}
	if end < 0 {
		return text, false
	}
	return text[:start], true
}

// feed runs the matcher over the given deltas and checks the streaming invariants.
func feed(t *testing.T, stops []string, deltas []string) (string, bool) {
	t.Helper()
	m := NewStopMatcher(stops)
	var out strings.Builder
	var so string
	for _, d := range deltas {
		so += d
		emit, stopped := m.Feed(d)
		out.WriteString(emit)
		// Nothing emitted may be the start of a stop string still in progress.
		if !stopped {
			for _, s := range stops {
				if s != "" && strings.Contains(out.String(), s) {
					t.Fatalf("emitted %q containing stop %q", out.String(), s)
				}
			}
		}
		if stopped {
			return out.String(), true
		}
	}
	out.WriteString(m.Flush())
	return out.String(), false
}

func TestStopEverySplit(t *testing.T) {
	tests := []struct {
		name  string
		stops []string
		text  string
	}{
		{"none", []string{"STOP"}, "hello world"},
		{"simple", []string{"STOP"}, "hello STOP world"},
		{"at start", []string{"</s>"}, "</s>tail"},
		{"at end", []string{"</s>"}, "text</s>"},
		{"partial at end is flushed", []string{"</s>"}, "text</"},
		{"overlapping prefix", []string{"aab"}, "aaaab"},
		{"two stops earliest end wins", []string{"abcd", "bc"}, "xabcdy"},
		{"same end longest wins", []string{"cd", "bcd"}, "abcde"},
		{"multibyte", []string{"。\n"}, "你好。世界。\n再见"},
		{"repeated near misses", []string{"<|im_end|>"}, "<|im<|im_e<|im_end|"},
		{"empty stop ignored", []string{"", "x"}, "abxc"},
		{"no stops", nil, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantStop := wholeText(tt.stops, tt.text)
			for i := 0; i <= len(tt.text); i++ {
				for j := i; j <= len(tt.text); j++ {
					got, stopped := feed(t, tt.stops, []string{tt.text[:i], tt.text[i:j], tt.text[j:]})
					if got != want || stopped != wantStop {
						t.Fatalf("split %d,%d: got %q,%v want %q,%v", i, j, got, stopped, want, wantStop)
					}
				}
			}
			// Byte by byte.
			var bytes []string
			for i := range len(tt.text) {
				bytes = append(bytes, tt.text[i:i+1])
			}
			if got, stopped := feed(t, tt.stops, bytes); got != want || stopped != wantStop {
				t.Fatalf("bytewise: got %q,%v want %q,%v", got, stopped, want, wantStop)
			}
		})
	}
}

func TestStopRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alpha := "ab<>"
	for range 2000 {
		var stops []string
		for range 1 + r.IntN(3) {
			n := 1 + r.IntN(4)
			var sb strings.Builder
			for range n {
				sb.WriteByte(alpha[r.IntN(len(alpha))])
			}
			stops = append(stops, sb.String())
		}
		var sb strings.Builder
		for range r.IntN(20) {
			sb.WriteByte(alpha[r.IntN(len(alpha))])
		}
		text := sb.String()
		var deltas []string
		for rest := text; rest != ""; {
			n := 1 + r.IntN(len(rest))
			deltas = append(deltas, rest[:n])
			rest = rest[n:]
		}
		want, wantStop := wholeText(stops, text)
		if got, stopped := feed(t, stops, deltas); got != want || stopped != wantStop {
			t.Fatalf("stops %q deltas %q: got %q,%v want %q,%v", stops, deltas, got, stopped, want, wantStop)
		}
	}
}

func TestStopAfterStop(t *testing.T) {
	m := NewStopMatcher([]string{"x"})
	if emit, stopped := m.Feed("abxcd"); emit != "ab" || !stopped {
		t.Fatalf("got %q,%v", emit, stopped)
	}
	if emit, stopped := m.Feed("more"); emit != "" || !stopped || !m.Stopped() {
		t.Fatalf("after stop: got %q,%v", emit, stopped)
	}
	if m.Flush() != "" {
		t.Fatal("flush after stop returned text")
	}
}

// FuzzStopMatcher: streaming in arbitrary pieces gives what the whole text gives.
func FuzzStopMatcher(f *testing.F) {
	f.Add("hello STOP world", "STOP", "xx", uint8(3))
	f.Add("<|im<|im_end|>", "<|im_end|>", "", uint8(1))
	f.Add("abcd", "abcd", "bc", uint8(2))
	f.Fuzz(func(t *testing.T, text, stop1, stop2 string, step uint8) {
		stops := []string{stop1, stop2}
		n := int(step%7) + 1
		var deltas []string
		for i := 0; i < len(text); i += n {
			deltas = append(deltas, text[i:min(i+n, len(text))])
		}
		want, wantStop := wholeText(stops, text)
		if got, stopped := feed(t, stops, deltas); got != want || stopped != wantStop {
			t.Fatalf("stops %q deltas %q: got %q,%v want %q,%v", stops, deltas, got, stopped, want, wantStop)
		}
	})
}

func TestStopMatched(t *testing.T) {
	for _, tt := range []struct {
		stops []string
		text  string
		want  string
	}{
		{[]string{"STOP"}, "hello STOP world", "STOP"},
		{[]string{"abcd", "bc"}, "xabcdy", "bc"},
		{[]string{"cd", "bcd"}, "abcde", "bcd"},
		{[]string{"x"}, "none here", ""},
	} {
		m := NewStopMatcher(tt.stops)
		for i := range len(tt.text) {
			m.Feed(tt.text[i : i+1])
		}
		if got := m.Matched(); got != tt.want {
			t.Errorf("%q in %q: matched %q, want %q", tt.stops, tt.text, got, tt.want)
		}
	}
}
