package tokenizer

import "testing"

func TestAppendLossy(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"é€😀", "é€😀"},
		{"\uFFFD", "\uFFFD"},
		{"\xE2\x82A", "\uFFFDA"},               // a cut character is one U+FFFD
		{"\xF0\x9F\x98", "\uFFFD"},             // even at the end
		{"\xFFa", "\uFFFDa"},                   // a byte that never leads
		{"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogates are three errors
		{"\xC3\xC3\xA9", "\uFFFDé"},
	}
	for _, tt := range tests {
		if got := string(appendLossy(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendLossy(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIncompleteTail(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"abc", 0}, {"a\xE2\x82", 2}, {"a\xE2", 1}, {"\xF0\x9F\x98", 3},
		{"\xE2\x82\xAC", 0}, {"\x82", 0}, {"\xED\xA0", 0}, {"\xC0", 0}, {"é\xC3", 1},
	}
	for _, tt := range tests {
		if got := incompleteTail([]byte(tt.in)); got != tt.want {
			t.Errorf("incompleteTail(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestStreamHoldsPartialCharacters(t *testing.T) {
	tok := loadFixture(t, "tiny-spm.json")
	steps := []struct {
		id   int32
		want string
	}{
		{tsThe, "the"}, // the first token loses its leading space
		{byteID(0xC3), ""},
		{byteID(0xA9), "é"},
		{byteID(0xE2), ""},
		{byteID(0x82), ""},
		{tsOnce, "\uFFFD once"}, // the cut character is given up
		{byteID(0xF0), ""},
	}
	d := tok.NewStreamDecoder(nil, true)
	for _, s := range steps {
		if got := d.Next(s.id); got != s.want {
			t.Errorf("Next(%d) = %q, want %q", s.id, got, s.want)
		}
	}
	if got := d.Flush(); got != "\uFFFD" {
		t.Errorf("Flush = %q, want the unfinished byte as U+FFFD", got)
	}

	// After a prompt, the continuation keeps its leading space.
	d = tok.NewStreamDecoder([]int32{1, tsThe}, true)
	if got := d.Next(tsOnce); got != " once" {
		t.Errorf("Next after a prompt = %q, want %q", got, " once")
	}
	// A prompt of special tokens only still strips the first space.
	d = tok.NewStreamDecoder([]int32{1}, true)
	if got := d.Next(tsOnce); got != "once" {
		t.Errorf("Next after BOS = %q, want %q", got, "once")
	}
	// A prompt ending inside a character lets the first token finish it.
	d = tok.NewStreamDecoder([]int32{tsThe, byteID(0xC3)}, true)
	if got := d.Next(byteID(0xA9)); got != "é" {
		t.Errorf("Next completing the prompt's character = %q", got)
	}
}
